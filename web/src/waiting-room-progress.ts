/**
 * The first position the page saw for its ticket, which its progress bar counts from: kept in
 * storage across reloads and shared by the tabs, in this page's memory when storage is unavailable.
 */
import type { TokenView } from './client.js';

export class FirstPosition {
  /** The first position seen, when storage is unavailable. */
  private firstSeen: { tokenId: string; position: number } | undefined;

  constructor(private readonly key: string) {}

  /** The first position seen for the view's ticket (this view's, when it is the first or lower than the one kept). */
  of(view: TokenView): number {
    if (!this.firstSeen || this.firstSeen.tokenId !== view.tokenId) this.firstSeen = { tokenId: view.tokenId, position: view.position };
    try {
      const stored = JSON.parse(localStorage.getItem(this.key) ?? 'null') as { tokenId?: unknown; position?: unknown } | null;
      if (stored && stored.tokenId === view.tokenId && typeof stored.position === 'number' && stored.position >= view.position) {
        return stored.position;
      }
      localStorage.setItem(this.key, JSON.stringify({ tokenId: view.tokenId, position: view.position }));
    } catch {
      // No storage: progress starts from this page's first view.
      return this.firstSeen.position;
    }
    return view.position;
  }

  clear(): void {
    try {
      localStorage.removeItem(this.key);
    } catch {
      // Nothing to clear.
    }
  }
}
