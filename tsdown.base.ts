import { defineConfig, type UserConfig } from 'tsdown'

/**
 * The build every public package shares: ESM only, Node 22, declarations, and the packaging
 * checks (publint, and arethetypeswrong for ESM-only packages) failing the build on any error.
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
    ...config,
  })
}
