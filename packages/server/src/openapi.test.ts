import { expect, it } from 'vitest'
import { createOpenAPIDocument } from './app/app.ts'

// The committed document is what the SDK's types are generated from. When this fails, review the
// change to the API and regenerate it: pnpm --filter @post-scheduler/server openapi
it('matches the committed openapi.json', async () => {
  await expect(`${JSON.stringify(createOpenAPIDocument(), null, 2)}\n`).toMatchFileSnapshot(
    '../openapi.json',
  )
})
