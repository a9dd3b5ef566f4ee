import type { PlatformDefinition } from '../definition.ts'
import { linkedinPlatform } from './linkedin.ts'
import { sandboxPlatform } from './sandbox.ts'
import { xPlatform } from './x.ts'

/**
 * The platforms the server installs when `createPostScheduler()` is given none: the sandbox, X
 * and LinkedIn. Spread them to add your own: `platforms: [...bundledPlatforms, mine]`.
 */
export const bundledPlatforms: readonly PlatformDefinition[] = [
  sandboxPlatform,
  xPlatform,
  linkedinPlatform,
]
