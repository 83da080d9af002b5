/**
 * The sortable, filterable, exportable table of the Filer, Hosts and VM views.
 * Large tables (thousands of VMs) render only the rows in view (windowing): fixed-height rows in
 * a scrolling box, with spacer rows above and below.
 */
import type { ComponentChildren } from 'preact';
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import { toCsv } from '../../../src/shared/format.ts';
import { memo } from '../hooks.ts';
import type { SortDir, TableState } from '../route.ts';

export type CellValue = string | number | boolean | null;

export interface Column<T> {
  /** Sort key in the URL; usually the row field name. */
  readonly key: string;
  readonly label: string;
  /** Longer header text (tooltip), e.g. the unit. */
  readonly title?: string;
  /** Right-aligned, sorted as numbers, not searched by the filter. */
  readonly numeric?: boolean;
  /** The value sorted on and exported; null sorts last. */
  readonly value: (row: T) => CellValue;
  /** What the cell shows; defaults to the value as text. */
  readonly render?: (row: T) => ComponentChildren;
  /** Text the filter searches (non-numeric columns); defaults to the value. */
  readonly text?: (row: T) => string;
  /** Header of the CSV column (with its unit); defaults to the label. */
  readonly csvLabel?: string;
  /** Column width in CSS pixels (fixed table layout: columns do not jump while scrolling). */
  readonly width?: number;
}

/** Width of a column: its own, else 96 px for numbers and 140 px for text; never narrower than its header with a sort mark. */
export function columnWidth<T>(column: Column<T>): number {
  const header = Math.ceil(column.label.length * 7.5 + 36);
  return Math.max(header, column.width ?? (column.numeric === true ? 96 : 140));
}

/** Keys of T whose values are numbers (or null). */
export type NumericKey<T> = { [K in keyof T]-?: T[K] extends number | null ? K : never }[keyof T] & string;

/** A right-aligned numeric column showing a row field through a formatter. */
export function numberColumn<T>(
  label: string,
  key: NumericKey<T>,
  format: (v: number | null) => string,
  title?: string,
  width?: number,
): Column<T> {
  // NumericKey guarantees the field holds a number or null.
  const get = (row: T): number | null => row[key] as unknown as number | null;
  return {
    key,
    label,
    numeric: true,
    ...(title === undefined ? {} : { title }),
    ...(width === undefined ? {} : { width }),
    value: get,
    render: (row) => format(get(row)),
  };
}

export interface TableProps<T> {
  readonly testId: string;
  /** Singular and plural noun for the count: ['VM', 'VMs']. */
  readonly noun: readonly [string, string];
  readonly rows: readonly T[];
  readonly columns: readonly Column<T>[];
  readonly rowId: (row: T) => string;
  readonly state: TableState;
  readonly onState: (state: TableState) => void;
  /** Sort used when the URL names none. */
  readonly defaultSort?: { readonly key: string; readonly dir: SortDir };
  readonly rowClass?: (row: T) => string;
  /** Content of an extra full-width row under an expanded row, or null. */
  readonly expansion?: (row: T) => ComponentChildren | null;
  readonly csvName: string;
}

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

function compare(a: CellValue, b: CellValue): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  return collator.compare(String(a), String(b));
}

/** Rows above this count are windowed. */
const windowAbove = 150;
/** Rows rendered beyond each edge of the scrolling box. */
const overscan = 6;
/** Pixels rendered beyond each side of the scrolling box, when columns are windowed too. */
const overscanX = 240;

/** Index of the first value of an ascending array above `y` (its length if none). */
function firstAbove(values: Float64Array, y: number): number {
  let lo = 0;
  let hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((values[mid] ?? 0) > y) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

interface RowProps {
  readonly id: string;
  readonly row: unknown;
  readonly columns: readonly Column<unknown>[];
  readonly className: string | undefined;
  readonly index: number;
  readonly colStart: number;
  readonly colEnd: number;
}

function Cell({ column, row }: { column: Column<unknown>; row: unknown }) {
  return <td class={column.numeric === true ? 'num' : undefined}>{column.render ? column.render(row) : String(column.value(row) ?? '')}</td>;
}

/**
 * One table row; rendered again only when its row, columns, class, position or the columns in
 * view change. Columns out of view (between `colStart` and `colEnd`, the first one always shown)
 * are one empty cell on each side, which the fixed layout gives their widths.
 */
const Row = memo(function Row({ id, row, columns, className, index, colStart, colEnd }: RowProps) {
  const first = columns[0];
  return (
    <tr data-id={id} class={className} aria-rowindex={index}>
      {first && <Cell key={first.key} column={first} row={row} />}
      {colStart > 1 && <td key="gap-left" class="gap" colSpan={colStart - 1} />}
      {columns.slice(Math.max(1, colStart), colEnd).map((c) => (
        <Cell key={c.key} column={c} row={row} />
      ))}
      {colEnd < columns.length && <td key="gap-right" class="gap" colSpan={columns.length - colEnd} />}
    </tr>
  );
});

function download(name: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/csv;charset=utf-8' }));
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  window.setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export function DataTable<T>(props: TableProps<T>) {
  const { rows, columns, state, onState, testId, rowId, expansion } = props;

  // The text the filter searches is built on the first filter, not on first paint.
  const searchCache = useRef<{ rows: readonly T[]; columns: readonly Column<T>[]; text: readonly string[] } | null>(null);
  const filtered = useMemo(() => {
    const tokens = state.q.toLowerCase().split(/\s+/).filter((t) => t !== '');
    if (tokens.length === 0) return null;
    let cache = searchCache.current;
    if (cache === null || cache.rows !== rows || cache.columns !== columns) {
      const searchable = columns.filter((c) => c.numeric !== true);
      const text = rows.map((row) =>
        searchable
          .map((c) => (c.text ? c.text(row) : String(c.value(row) ?? '')))
          .join('\u0000')
          .toLowerCase(),
      );
      cache = { rows, columns, text };
      searchCache.current = cache;
    }
    const out: T[] = [];
    cache.text.forEach((text, i) => {
      if (tokens.every((t) => text.includes(t))) out.push(rows[i] as T);
    });
    return out;
  }, [rows, columns, state.q]);
  const shown = filtered ?? rows;

  const sortKey = state.sort ?? props.defaultSort?.key ?? null;
  const sortDir: SortDir = state.sort !== null ? state.dir : (props.defaultSort?.dir ?? 'asc');
  const sortColumn = columns.find((c) => c.key === sortKey);

  const ordered = useMemo(() => {
    if (!sortColumn) return shown;
    const keyed = shown.map((row) => ({ row, v: sortColumn.value(row) }));
    const sign = sortDir === 'desc' ? -1 : 1;
    keyed.sort((a, b) => {
      // Missing values go last whichever the direction.
      if (a.v === null || b.v === null) return a.v === null ? (b.v === null ? 0 : 1) : -1;
      return sign * compare(a.v, b.v);
    });
    return keyed.map((k) => k.row);
  }, [shown, sortColumn, sortDir]);

  const windowed = ordered.length > windowAbove;
  const scroller = useRef<HTMLDivElement>(null);
  // The first paint guesses the box from the window; the scroll listener corrects it a frame later.
  const [view, setView] = useState(() => ({ top: 0, height: Math.max(300, window.innerHeight - 140), left: 0, width: window.innerWidth }));
  const [rowHeight, setRowHeight] = useState(29);
  const rowMeasured = useRef(false);
  // Measured heights of expansion rows (the vmnic tables), by parent row id; estimated until shown.
  const extraHeights = useRef(new Map<string, number>());
  const [extraVersion, setExtraVersion] = useState(0);

  useEffect(() => {
    const el = scroller.current;
    if (!el || !windowed) return undefined;
    let frame = 0;
    const update = (): void => {
      cancelAnimationFrame(frame);
      frame = requestAnimationFrame(() =>
        setView((v) =>
          v.top === el.scrollTop && v.height === el.clientHeight && v.left === el.scrollLeft && v.width === el.clientWidth
            ? v
            : { top: el.scrollTop, height: el.clientHeight, left: el.scrollLeft, width: el.clientWidth },
        ),
      );
    };
    update();
    el.addEventListener('scroll', update, { passive: true });
    const observer = new ResizeObserver(update);
    observer.observe(el);
    return () => {
      cancelAnimationFrame(frame);
      el.removeEventListener('scroll', update);
      observer.disconnect();
    };
  }, [windowed]);

  // The scrolling box ends at the bottom of the window, whatever banners sit above it, so the
  // page itself does not scroll as well.
  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return undefined;
    const fit = (): void => {
      const top = el.getBoundingClientRect().top + window.scrollY;
      el.style.maxHeight = `${Math.max(240, window.innerHeight - top - 12)}px`;
      rowMeasured.current = false;
    };
    fit();
    window.addEventListener('resize', fit);
    return () => window.removeEventListener('resize', fit);
  }, []);

  // Row height (once, and again after a resize) and expansion heights, for the windowing arithmetic.
  useLayoutEffect(() => {
    const body = scroller.current?.querySelector('tbody');
    if (!body || !windowed) return;
    if (!rowMeasured.current) {
      const first = body.querySelector<HTMLElement>(':scope > tr[data-id]');
      const measured = first?.getBoundingClientRect().height ?? 0;
      if (measured > 0) {
        rowMeasured.current = true;
        if (Math.abs(measured - rowHeight) > 0.5) setRowHeight(measured);
      }
    }
    let changed = false;
    for (const tr of body.querySelectorAll<HTMLElement>(':scope > tr.expansion[data-parent]')) {
      const id = tr.dataset.parent ?? '';
      const height = tr.getBoundingClientRect().height;
      if (height > 0 && Math.abs((extraHeights.current.get(id) ?? -1) - height) > 0.5) {
        extraHeights.current.set(id, height);
        changed = true;
      }
    }
    if (changed) setExtraVersion((n) => n + 1);
  });

  // Expanded content per row (hosts' vmnics), and each row's top when expansions make heights vary.
  const extras = useMemo(() => (expansion === undefined ? null : ordered.map((row) => expansion(row))), [ordered, expansion]);
  const tops = useMemo(() => {
    if (!windowed || extras === null) return null;
    const out = new Float64Array(ordered.length + 1);
    for (let i = 0; i < ordered.length; i++) {
      const extra = extras[i] === null ? 0 : (extraHeights.current.get(rowId(ordered[i] as T)) ?? 4 * rowHeight);
      out[i + 1] = (out[i] ?? 0) + rowHeight + extra;
    }
    return out;
    // extraVersion: extraHeights (a ref) changed.
  }, [windowed, extras, ordered, rowHeight, extraVersion]);
  const topOf = (i: number): number => (tops === null ? i * rowHeight : (tops[i] ?? 0));

  let start = 0;
  let end = ordered.length;
  if (windowed) {
    const from = Math.max(0, view.top - overscan * rowHeight);
    const to = view.top + view.height + overscan * rowHeight;
    if (tops === null) {
      start = Math.floor(from / rowHeight);
      end = Math.min(ordered.length, Math.ceil(to / rowHeight));
    } else {
      start = firstAbove(tops, from) - 1;
      end = Math.min(ordered.length, firstAbove(tops, to - 0.5));
    }
    start = Math.max(0, Math.min(start, end));
  }
  const visible = ordered.slice(start, end);

  // Wide windowed tables render only the columns in view (and the first, which stays in view).
  const widths = useMemo(() => columns.map((c) => columnWidth(c)), [columns]);
  let colStart = 1;
  let colEnd = columns.length;
  if (windowed) {
    const from = view.left - overscanX;
    const to = view.left + view.width + overscanX;
    let x = widths[0] ?? 0;
    for (let i = 1; i < columns.length; i++) {
      const w = widths[i] ?? 0;
      if (x + w <= from) colStart = i + 1;
      if (x >= to) {
        colEnd = i;
        break;
      }
      x += w;
    }
    colStart = Math.min(colStart, colEnd);
  }

  const sortBy = (key: string): void => {
    const dir: SortDir = key === sortKey ? (sortDir === 'asc' ? 'desc' : 'asc') : columns.find((c) => c.key === key)?.numeric === true ? 'desc' : 'asc';
    onState({ ...state, sort: key, dir });
  };

  const exportCsv = (): void => {
    const header = columns.map((c) => c.csvLabel ?? c.label);
    const body = ordered.map((row) => columns.map((c) => c.value(row)));
    download(`${props.csvName}.csv`, toCsv(header, body));
  };

  const tableWidth = widths.reduce((total, w) => total + w, 0);
  const [one, many] = props.noun;
  const countText =
    filtered === null || filtered.length === rows.length
      ? `${rows.length} ${rows.length === 1 ? one : many}`
      : `${filtered.length} of ${rows.length} ${rows.length === 1 ? one : many}`;

  return (
    <div class="table-wrap">
      <div class="table-tools">
        <label class="filter">
          <span class="visually-hidden">Filter {many}</span>
          <input
            type="search"
            placeholder={`Filter ${many}…`}
            value={state.q}
            data-testid={`${testId}-filter`}
            onInput={(e) => onState({ ...state, q: e.currentTarget.value })}
          />
        </label>
        <span class="count" data-testid={`${testId}-count`} aria-live="polite">
          {countText}
        </span>
        <button type="button" class="btn" onClick={exportCsv} data-testid={`${testId}-csv`}>
          Export CSV
        </button>
      </div>
      <div class={`table-scroll${windowed ? ' windowed' : ''}`} ref={scroller}>
        <table class="data fixed" data-testid={testId} aria-rowcount={ordered.length + 1} style={{ width: `${tableWidth}px` }}>
          <colgroup>
            {columns.map((c, i) => (
              <col key={c.key} style={{ width: `${widths[i] ?? 0}px` }} />
            ))}
          </colgroup>
          <thead>
            <tr>
              {columns.map((c) => (
                <th
                  key={c.key}
                  class={c.numeric === true ? 'num' : undefined}
                  aria-sort={c.key === sortKey ? (sortDir === 'asc' ? 'ascending' : 'descending') : 'none'}
                  data-key={c.key}
                  scope="col"
                >
                  <button type="button" class="sort" onClick={() => sortBy(c.key)} title={c.title ?? `Sort by ${c.label}`}>
                    {c.label}
                    <span class="sort-mark" aria-hidden="true">
                      {c.key === sortKey ? (sortDir === 'asc' ? '▲' : '▼') : ''}
                    </span>
                  </button>
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {start > 0 && (
              <tr class="spacer" aria-hidden="true" style={{ height: `${topOf(start)}px` }}>
                <td colSpan={columns.length} />
              </tr>
            )}
            {visible.map((row, i) => {
              const id = rowId(row);
              const extra = extras?.[start + i] ?? null;
              const cells = (
                // Windowed rows are keyed by slot, so that sorting or scrolling updates the
                // existing row elements instead of building new ones (much less style and layout
                // work); a row whose figures did not change is not rendered again.
                <Row
                  key={windowed ? i : id}
                  id={id}
                  row={row}
                  // Columns of T are given rows of T only.
                  columns={columns as unknown as readonly Column<unknown>[]}
                  className={props.rowClass?.(row)}
                  index={start + i + 2}
                  colStart={colStart}
                  colEnd={colEnd}
                />
              );
              if (extra === null) return cells;
              return [
                cells,
                <tr key={`${id}-more`} class="expansion" data-parent={id}>
                  <td colSpan={columns.length}>{extra}</td>
                </tr>,
              ];
            })}
            {end < ordered.length && (
              <tr class="spacer" aria-hidden="true" style={{ height: `${topOf(ordered.length) - topOf(end)}px` }}>
                <td colSpan={columns.length} />
              </tr>
            )}
            {ordered.length === 0 && (
              <tr class="empty">
                <td colSpan={columns.length}>{rows.length === 0 ? `No ${many} of this datacenter that your vSphere account may see.` : `No ${many} match “${state.q}”.`}</td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
    </div>
  );
}
