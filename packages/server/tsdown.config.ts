import { defineLibraryConfig } from '../../tsdown.base.ts'

export default defineLibraryConfig({
  entry: ['src/index.ts', 'src/cli.ts', 'src/testing.ts'],
  // Read at run time beside the bundle (see src/db/migrate.ts).
  copy: [{ from: 'src/db/migrations', to: 'dist' }],
})
