/**
 * Validation at the edge: every HTTP input goes through a zod schema here; handlers only see
 * the parsed, typed value. A failure is a 400 saying which field is wrong and what is allowed.
 */
import { z } from 'zod';
import { badRequest } from './errors.ts';

/** Longest text accepted in any field; longer input is refused before it reaches a handler. */
export const maxTextLength = 1024;

function describe(error: z.ZodError, where: string): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => {
      const path = issue.path.length > 0 ? issue.path.map(String).join('.') : where;
      return `${path}: ${issue.message}`;
    })
    .join('; ');
}

/** Parses `value` or throws a 400 naming the bad field. */
export function parseInput<T extends z.ZodType>(schema: T, value: unknown, where: string): z.output<T> {
  const result = schema.safeParse(value);
  if (!result.success) throw badRequest(`Invalid ${where}: ${describe(result.error, where)}`);
  return result.data;
}

/** Optional boolean query flag: absent, `true` or `false`. */
export const queryFlag = z.enum(['true', 'false']).optional().transform((value) => value === 'true');

export const loginBody = z.object({
  username: z.string().min(1, 'required').max(256, 'at most 256 characters'),
  password: z.string().min(1, 'required').max(maxTextLength, `at most ${String(maxTextLength)} characters`),
  vcenter: z.string().min(1).max(128).optional(),
});

export const listQuery = z.object({ removed: queryFlag });

/** Unix seconds as a decimal integer string. */
export const unixSecondsText = z
  .string()
  .regex(/^\d{1,11}$/, 'expected integer unix seconds')
  .transform((text) => Number(text));

export const seriesQuery = z.object({
  period: z.enum(['day', 'week', 'month', 'year']).optional(),
  from: unixSecondsText.optional(),
  to: unixSecondsText.optional(),
  metrics: z.string().max(maxTextLength, `at most ${String(maxTextLength)} characters`).optional(),
});
