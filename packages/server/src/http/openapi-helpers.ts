import { z } from '@hono/zod-openapi'
import { ID_RANDOM_PATTERN } from '../db/ids.ts'

type SecurityRequirement = Record<string, string[]>

/** `security` of operations open to anyone. */
export const PUBLIC: SecurityRequirement[] = []
/** `security` of operations for any authenticated caller (bearer secret or session cookie). */
export const AUTHENTICATED: SecurityRequirement[] = [{ bearer: [] }, { session: [] }]

/**
 * An id made by `generateId(prefix)`: the prefix, `_` and 26 lower-case base32 characters.
 * Path parameters and filters holding ids use it, so a malformed id is refused before any query.
 *
 * @example
 * ```ts
 * const PostParams = z.object({ postId: idSchema('post') })
 * ```
 */
export const idSchema = (prefix: string) =>
  z
    .string()
    .regex(new RegExp(`^${prefix}_${ID_RANDOM_PATTERN}$`), {
      error: `must be an id starting with ${prefix}_`,
    })
    .openapi({ example: `${prefix}_mzxw6ytboi2dkmzvgq3tqnrvhe` })

/** An id of any kind (`usr_…`, `key_…`, `post_…`), for filters that match several. */
export const AnyIdSchema = z
  .string()
  .regex(new RegExp(`^[a-z]+_${ID_RANDOM_PATTERN}$`), { error: 'must be an id such as usr_…' })
  .openapi({ example: 'usr_mzxw6ytboi2dkmzvgq3tqnrvhe' })

export const EmailSchema = z.email({ error: 'must be an email address' }).max(254)

export const TimezoneSchema = z
  .string()
  .refine((value) => Intl.supportedValuesOf('timeZone').includes(value) || value === 'UTC', {
    error: 'must be an IANA timezone name such as Europe/Paris',
  })
  .openapi({ example: 'Europe/Paris' })

export const LocaleSchema = z
  .string()
  .max(35)
  .refine(
    (value) => {
      try {
        return Intl.getCanonicalLocales(value).length === 1
      } catch {
        return false
      }
    },
    { error: 'must be a BCP 47 language tag such as en or fr-CA' },
  )
  .openapi({ example: 'en' })

/** A JSON body schema entry for `createRoute({ request: { body } })`. */
export const jsonBody = <T extends z.ZodType>(schema: T) => ({
  required: true,
  content: { 'application/json': { schema } },
})

/** A JSON response entry for `createRoute({ responses })`. */
export const jsonResponse = <T extends z.ZodType>(description: string, schema: T) => ({
  description,
  content: { 'application/json': { schema } },
})
