/**
 * What the admin page's parts share: the room as the admin API answers it, and small DOM helpers.
 */
export type { AdminRoom } from '../../lambdas/api/schemas.js';

export const numbers = new Intl.NumberFormat();

export function make<K extends keyof HTMLElementTagNameMap>(tag: K, props: { className?: string; text?: string } = {}): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (props.className) node.className = props.className;
  if (props.text !== undefined) node.textContent = props.text;
  return node;
}

export function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Fills a definition list with label and value pairs (text only: nothing in them is HTML). */
export function fillDefinitions(list: HTMLElement, items: readonly { label: string; value: string }[]): void {
  list.replaceChildren(...items.flatMap(({ label, value }) => [make('dt', { text: label }), make('dd', { text: value })]));
}
