import { readdir, readFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const SOURCE = fileURLToPath(new URL('../src', import.meta.url))
const MAX_LINES = 600

/** Generated code, not written by hand: its size is not ours to keep small. */
const GENERATED = [/^db\/migrations\//]

async function linesPerFile() {
  const entries = await readdir(SOURCE, { recursive: true, withFileTypes: true })
  const files = entries
    .filter((entry) => entry.isFile() && /\.(ts|tsx)$/.test(entry.name))
    .map((entry) => relative(SOURCE, join(entry.parentPath, entry.name)).split('\\').join('/'))
    .filter((path) => !GENERATED.some((pattern) => pattern.test(path)))
  return Promise.all(
    files.map(async (path) => {
      const text = await readFile(join(SOURCE, path), 'utf8')
      return { path, lines: text.split('\n').length - (text.endsWith('\n') ? 1 : 0) }
    }),
  )
}

describe('the size of source files', () => {
  it(`keeps every file under src/ (tests included) at ${MAX_LINES} lines or fewer`, async () => {
    const over = (await linesPerFile())
      .filter((file) => file.lines > MAX_LINES)
      .map((file) => `${file.path} (${file.lines} lines)`)
      .sort()
    expect(over, 'split these files by reason to change').toEqual([])
  })
})
