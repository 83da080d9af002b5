/**
 * The sortable, filterable, exportable table of the Filer, Hosts and VM views.
 * Large tables (thousands of VMs) render only the rows in view (windowing): fixed-height rows in
 * a scrolling box, with spacer rows above and below.
 */
import type { ComponentChildren } from 'preact';
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import { toCsv } from '../../../src/shared/format.ts';
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
  /** Content of an extra full-width row under an expanded row (disables windowing). */
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
const overscan = 12;

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

  const searchText = useMemo(() => {
    const searchable = columns.filter((c) => c.numeric !== true);
    return rows.map((row) =>
      searchable
        .map((c) => (c.text ? c.text(row) : String(c.value(row) ?? '')))
        .join('\u0000')
        .toLowerCase(),
    );
  }, [rows, columns]);

  const filtered = useMemo(() => {
    const tokens = state.q.toLowerCase().split(/\s+/).filter((t) => t !== '');
    if (tokens.length === 0) return rows.map((_, i) => i);
    const out: number[] = [];
    searchText.forEach((text, i) => {
      if (tokens.every((t) => text.includes(t))) out.push(i);
    });
    return out;
  }, [rows, searchText, state.q]);

  const sortKey = state.sort ?? props.defaultSort?.key ?? null;
  const sortDir: SortDir = state.sort !== null ? state.dir : (props.defaultSort?.dir ?? 'asc');
  const sortColumn = columns.find((c) => c.key === sortKey);

  const ordered = useMemo(() => {
    if (!sortColumn) return filtered.map((i) => rows[i] as T);
    const keyed = filtered.map((i) => ({ row: rows[i] as T, v: sortColumn.value(rows[i] as T) }));
    const sign = sortDir === 'desc' ? -1 : 1;
    keyed.sort((a, b) => {
      // Missing values go last whichever the direction.
      if (a.v === null || b.v === null) return a.v === null ? (b.v === null ? 0 : 1) : -1;
      return sign * compare(a.v, b.v);
    });
    return keyed.map((k) => k.row);
  }, [rows, filtered, sortColumn, sortDir]);

  const windowed = expansion === undefined && ordered.length > windowAbove;
  const scroller = useRef<HTMLDivElement>(null);
  const [view, setView] = useState({ top: 0, height: 800 });
  const [rowHeight, setRowHeight] = useState(29);

  useEffect(() => {
    const el = scroller.current;
    if (!el || !windowed) return undefined;
    let frame = 0;
    const update = (): void => {
      cancelAnimationFrame(frame);
      frame = requestAnimationFrame(() => setView({ top: el.scrollTop, height: el.clientHeight }));
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
    };
    fit();
    window.addEventListener('resize', fit);
    return () => window.removeEventListener('resize', fit);
  }, []);

  useLayoutEffect(() => {
    const first = scroller.current?.querySelector<HTMLElement>('tbody tr[data-id]');
    if (!first) return;
    const measured = first.getBoundingClientRect().height;
    if (measured > 0 && Math.abs(measured - rowHeight) > 0.5) setRowHeight(measured);
  });

  let start = 0;
  let end = ordered.length;
  if (windowed) {
    start = Math.max(0, Math.floor(view.top / rowHeight) - overscan);
    end = Math.min(ordered.length, Math.ceil((view.top + view.height) / rowHeight) + overscan);
  }
  const visible = ordered.slice(start, end);

  const sortBy = (key: string): void => {
    const dir: SortDir = key === sortKey ? (sortDir === 'asc' ? 'desc' : 'asc') : columns.find((c) => c.key === key)?.numeric === true ? 'desc' : 'asc';
    onState({ ...state, sort: key, dir });
  };

  const exportCsv = (): void => {
    const header = columns.map((c) => c.csvLabel ?? c.label);
    const body = ordered.map((row) => columns.map((c) => c.value(row)));
    download(`${props.csvName}.csv`, toCsv(header, body));
  };

  const tableWidth = useMemo(() => columns.reduce((total, c) => total + columnWidth(c), 0), [columns]);
  const [one, many] = props.noun;
  const countText =
    filtered.length === rows.length
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
            {columns.map((c) => (
              <col key={c.key} style={{ width: `${columnWidth(c)}px` }} />
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
              <tr class="spacer" aria-hidden="true" style={{ height: `${start * rowHeight}px` }}>
                <td colSpan={columns.length} />
              </tr>
            )}
            {visible.map((row, i) => {
              const id = rowId(row);
              const extra = expansion?.(row) ?? null;
              const cells = (
                // Windowed rows are keyed by slot, so that sorting or scrolling updates the
                // existing row elements instead of building new ones (much less style and layout work).
                <tr key={windowed ? i : id} data-id={id} class={props.rowClass?.(row)} aria-rowindex={start + i + 2}>
                  {columns.map((c) => (
                    <td key={c.key} class={c.numeric === true ? 'num' : undefined}>
                      {c.render ? c.render(row) : String(c.value(row) ?? '')}
                    </td>
                  ))}
                </tr>
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
              <tr class="spacer" aria-hidden="true" style={{ height: `${(ordered.length - end) * rowHeight}px` }}>
                <td colSpan={columns.length} />
              </tr>
            )}
            {ordered.length === 0 && (
              <tr class="empty">
                <td colSpan={columns.length}>{rows.length === 0 ? `No ${many} in this datacenter.` : `No ${many} match “${state.q}”.`}</td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
    </div>
  );
}
