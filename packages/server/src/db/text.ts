// A high surrogate not followed by a low one, or a low surrogate not preceded by a high one.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/

/**
 * Whether PostgreSQL can store the string. It refuses NUL in `text` and `jsonb`, and an unpaired
 * UTF-16 surrogate (which JavaScript strings and JSON's `\ud800` escape allow) has no UTF-8 form.
 * The router refuses every request value that fails this before a handler runs.
 *
 * @example
 * ```ts
 * isStorableText('café') // true
 * isStorableText('a\u0000b') // false
 * isStorableText('x\ud800') // false
 * ```
 */
export function isStorableText(value: string): boolean {
  return !value.includes('\u0000') && !LONE_SURROGATE.test(value)
}

/**
 * The path of every string in `value`, object keys included, that {@link isStorableText} refuses.
 *
 * @example
 * ```ts
 * findUnstorableText({ content: { text: 'x\ud800' } }) // [['content', 'text']]
 * ```
 */
export function findUnstorableText(
  value: unknown,
  path: (string | number)[] = [],
): (string | number)[][] {
  if (typeof value === 'string') return isStorableText(value) ? [] : [path]
  if (Array.isArray(value)) {
    return value.flatMap((item, index) => findUnstorableText(item, [...path, index]))
  }
  if (value !== null && typeof value === 'object' && !(value instanceof Blob)) {
    return Object.entries(value).flatMap(([key, item]) => [
      ...(isStorableText(key) ? [] : [[...path, key]]),
      ...findUnstorableText(item, [...path, key]),
    ])
  }
  return []
}
