/**
 * Where the waiting page sends an admitted visitor when the edge gate brought them: `?return=`,
 * the URL they first asked for, followed only when it is a path of this very site (the page must
 * never become an open redirect). No DOM types, so unit tests run it in Node.
 */
/** `?return=`: a path of this site ("/shop/item?x=1"), as a URL; anything else (another origin, "//host", a backslash) is ignored. */
export function sameSitePath(value: string | null, loc: { readonly href: string; readonly origin: string }): string | undefined {
  if (!value || !value.startsWith('/') || value.startsWith('//') || value.includes('\\')) return undefined;
  try {
    const url = new URL(value, loc.href);
    return url.origin === loc.origin ? url.href : undefined;
  } catch {
    return undefined;
  }
}
