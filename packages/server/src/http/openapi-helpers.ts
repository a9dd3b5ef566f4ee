import { z } from '@hono/zod-openapi'

type SecurityRequirement = Record<string, string[]>

/** `security` of operations open to anyone. */
export const PUBLIC: SecurityRequirement[] = []
/** `security` of operations for any authenticated caller (bearer secret or session cookie). */
export const AUTHENTICATED: SecurityRequirement[] = [{ bearer: [] }, { session: [] }]

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
