import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { defineConfig, type UserConfig } from 'tsdown'

/**
 * The build every public package shares: ESM only, Node 22, declarations, and the packaging
 * checks (publint, and arethetypeswrong for ESM-only packages) failing the build on any error,
 * and the package's own copy of the repository's `LICENSE` (npm packs it whatever `files` says).
 */
export function defineLibraryConfig(config: UserConfig) {
  return defineConfig({
    format: 'esm',
    platform: 'node',
    target: 'node22.12',
    fixedExtension: false,
    dts: true,
    clean: true,
    publint: { level: 'error', strict: true },
    attw: { profile: 'esm-only', level: 'error' },
    hooks: { 'build:prepare': ({ options }) => assertLicense(options.cwd) },
    ...config,
  })
}

async function assertLicense(packageDir: string) {
  const root = await readFile(join(import.meta.dirname, 'LICENSE'), 'utf8')
  const own = await readFile(join(packageDir, 'LICENSE'), 'utf8').catch(() => undefined)
  if (own !== root) {
    throw new Error(
      `${packageDir}/LICENSE must be a copy of the repository's LICENSE: cp LICENSE ${packageDir}/`,
    )
  }
}
