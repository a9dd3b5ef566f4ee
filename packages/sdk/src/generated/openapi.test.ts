import { readFile } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import { GENERATED_PATH, generateTypes } from '../../scripts/generate-types.ts'

describe('the generated API types', () => {
  it('match the server’s committed OpenAPI document (run `pnpm --filter @post-scheduler/sdk generate`)', async () => {
    expect(await readFile(GENERATED_PATH, 'utf8')).toBe(await generateTypes())
  })
})
