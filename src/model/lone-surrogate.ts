/**
 * Half of a UTF-16 surrogate pair standing alone (`"\ud800"` in JSON) is accepted by JSON.parse, but it is
 * not Unicode text, and DuckDB's JSON reader refuses it: a record holding one could never be stored in
 * history or the Lake, so every way in either refuses it with a clear error or makes the text well-formed.
 */

/**
 * JSON.stringify escapes a surrogate only when it stands alone (a whole pair is written as it is): an escape,
 * not an escaped backslash followed by `ud800`, which has an even run of backslashes before it.
 */
const ESCAPED_SURROGATE = /(?<=(?:^|[^\\])(?:\\\\)*)\\ud[89a-f][0-9a-f]{2}/;
const ESCAPED_SURROGATES = new RegExp(ESCAPED_SURROGATE.source, 'g');

/** Whether JSON.stringify's text of a value holds a lone surrogate; most texts are passed by one `includes`. */
export function stringifiedLoneSurrogate(json: string): boolean {
  return json.includes('\\ud') && ESCAPED_SURROGATE.test(json);
}

/** JSON.stringify's text with each lone surrogate (in strings and member names) replaced by U+FFFD. */
export function wellFormedJson(json: string): string {
  return stringifiedLoneSurrogate(json) ? json.replace(ESCAPED_SURROGATES, '\\ufffd') : json;
}

/**
 * Whether a JSON text someone sent, parsed into `value`, holds a lone surrogate. The text is looked at first:
 * without a surrogate escape (paired ones too, which Python's json writes for every character beyond the BMP)
 * or a surrogate itself, it holds none, and the value need not be serialised again to tell.
 */
export function sentLoneSurrogate(text: string, value: unknown): boolean {
  return /\\u[dD][89a-fA-F]|[\ud800-\udfff]/.test(text) && stringifiedLoneSurrogate(JSON.stringify(value));
}

export const LONE_SURROGATE_ADVICE =
  'holds half of a UTF-16 surrogate pair (\\ud800-\\udfff alone), which is not Unicode text';
