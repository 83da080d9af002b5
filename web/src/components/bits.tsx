import type { ComponentChildren } from 'preact';
import type { Health } from '../../../src/shared/format.ts';
import { entityHref } from '../route.ts';

/** A word with its health colour: `On` in green, `Not running` in amber. */
export function Badge({ health, children, title }: { health: Health; children: ComponentChildren; title?: string | undefined }) {
  return (
    <span class={`badge h-${health}`} title={title}>
      {children}
    </span>
  );
}

/** A horizontal bar for a percentage, with the figure written beside it. */
export function Bar({ pct, health, text, title }: { pct: number | null; health: Health; text: string; title?: string | undefined }) {
  const width = pct === null || !Number.isFinite(pct) ? 0 : Math.max(0, Math.min(100, pct));
  return (
    <span class="bar" title={title ?? text}>
      <span class="bar-track" aria-hidden="true">
        <span class={`bar-fill h-${health}`} style={{ width: `${width}%` }} />
      </span>
      <span class="bar-text">{text}</span>
    </span>
  );
}

/** Link to an entity's graphs; the name is text, never markup. */
export function EntityLink({ id, name, kind }: { id: string; name: string; kind?: string }) {
  return (
    <a href={entityHref(id, kind)} title={name}>
      {name}
    </a>
  );
}

/** A titled block of the page. */
export function Panel({ title, children, actions, testId }: { title: string; children: ComponentChildren; actions?: ComponentChildren; testId?: string }) {
  return (
    <section class="panel" data-testid={testId}>
      <header class="panel-head">
        <h2>{title}</h2>
        {actions}
      </header>
      <div class="panel-body">{children}</div>
    </section>
  );
}

/** A failed load, said plainly, with what to do. */
export function ErrorNote({ message }: { message: string }) {
  return (
    <p class="note note-error" role="alert">
      {message}
    </p>
  );
}
