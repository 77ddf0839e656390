/** RFC 9110 `token`: the grammar of method and header names. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export function isToken(value: string): boolean {
  return TOKEN.test(value);
}

/** More than any browser sends; a longer list is treated as hostile rather than parsed. */
const MAX_REQUEST_HEADERS = 64;
const MAX_REQUEST_HEADERS_LENGTH = 4096;

/**
 * Parses `Access-Control-Request-Headers` into lower-cased, de-duplicated names, tolerating spaces, empty items
 * and several header lines. Returns `undefined` when an item is not a token or the list is absurdly long: such a
 * preflight is rejected.
 */
export function parseHeaderList(value: string | string[] | undefined): string[] | undefined {
  if (value === undefined) return [];
  const list = Array.isArray(value) ? value.join(',') : value;
  if (list.length > MAX_REQUEST_HEADERS_LENGTH) return undefined;
  const items = list.split(',');
  if (items.length > MAX_REQUEST_HEADERS) return undefined;
  const names: string[] = [];
  for (const item of items) {
    const name = item.trim().toLowerCase();
    if (name === '') continue;
    if (!isToken(name)) return undefined;
    if (!names.includes(name)) names.push(name);
  }
  return names;
}

/**
 * Adds tokens to a `Vary` value without overwriting or duplicating what is there (compared case-insensitively).
 * Returns `undefined` when nothing needs to change.
 */
export function mergeVary(existing: unknown, tokens: readonly string[]): string | undefined {
  const current = Array.isArray(existing) ? existing.join(', ') : existing == null ? '' : String(existing);
  const present = current.split(',').map((token) => token.trim().toLowerCase());
  if (present.includes('*')) return undefined;
  const missing = tokens.filter((token) => !present.includes(token.toLowerCase()));
  if (missing.length === 0) return undefined;
  return current.trim() === '' ? missing.join(', ') : `${current}, ${missing.join(', ')}`;
}
