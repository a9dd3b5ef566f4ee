import { describe, expect, it } from 'vitest'
import { useFacebook } from '../test/harness.ts'

const pages = Array.from({ length: 103 }, (_, index) => ({
  id: String(202000000000000 + index),
  name: `Page ${index}`,
}))
const many = useFacebook({ pages })

describe('connecting with more Pages than one answer holds', () => {
  it('follows the cursor to list all of them', async () => {
    const { accounts } = await many.connect()
    expect(accounts.map((account) => account.id)).toEqual(pages.map((page) => page.id))
    expect(
      many.emulator.requests.list().filter((entry) => entry.url.pathname.endsWith('/me/accounts')),
    ).toHaveLength(2)
  })
})
