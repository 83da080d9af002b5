/**
 * History tiers: bucket width and how long each is kept at least, like vCenter's own
 * statistics intervals (5 min for a day, 30 min for a week, 2 h for a month, 1 day for a year),
 * kept twice as long so that a period never starts on a hole.
 */
export type Tier = '5m' | '30m' | '2h' | '1d';
export type Period = 'day' | 'week' | 'month' | 'year';

export const tiers: readonly Tier[] = ['5m', '30m', '2h', '1d'];

export const tierStepSec: Readonly<Record<Tier, number>> = { '5m': 300, '30m': 1800, '2h': 7200, '1d': 86400 };

/** Minimum retention per tier, seconds. */
export const tierRetentionSec: Readonly<Record<Tier, number>> = {
  '5m': 2 * 86400,
  '30m': 14 * 86400,
  '2h': 62 * 86400,
  '1d': 731 * 86400,
};

export const periodSec: Readonly<Record<Period, number>> = { day: 86400, week: 7 * 86400, month: 31 * 86400, year: 366 * 86400 };
export const tierForPeriod: Readonly<Record<Period, Tier>> = { day: '5m', week: '30m', month: '2h', year: '1d' };

/** vCenter historical interval (seconds) that feeds each tier at import. */
export const tierForIntervalSec: Readonly<Record<number, Tier>> = { 300: '5m', 1800: '30m', 7200: '2h', 86400: '1d' };

/** The finest tier whose retention covers `spanSec` and that yields at most ~2000 points. */
export function tierForSpan(spanSec: number): Tier {
  for (const tier of tiers) {
    if (spanSec <= tierRetentionSec[tier] && spanSec / tierStepSec[tier] <= 2000) return tier;
  }
  return '1d';
}

/** Start of the bucket holding a sample whose interval ends at `sampleEndSec`. */
export function bucketStart(sampleEndSec: number, intervalSec: number, stepSec: number): number {
  const sampleStart = sampleEndSec - intervalSec;
  return Math.floor(sampleStart / stepSec) * stepSec;
}
