import { z } from '@hono/zod-openapi'

/** Query parameters of every list operation: `limit` (1–100, default 20) and an opaque `cursor`. */
export const PageQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20).openapi({ example: 20 }),
  cursor: z
    .string()
    .max(200)
    .optional()
    .openapi({ description: 'The `nextCursor` of the previous page' }),
})

/** A page of `item`s: `data` and the cursor of the next page (`null` on the last one). */
export const pageSchema = <T extends z.ZodType>(item: T) =>
  z.object({ data: z.array(item), nextCursor: z.string().nullable() })
