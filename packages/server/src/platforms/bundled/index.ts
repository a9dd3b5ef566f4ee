import type { PlatformDefinition } from '../definition.ts'
import { facebookPlatform } from './facebook.ts'
import { instagramPlatform } from './instagram.ts'
import { linkedinPlatform } from './linkedin.ts'
import { sandboxPlatform } from './sandbox.ts'
import { xPlatform } from './x.ts'

/**
 * The platforms the server installs when `createPostScheduler()` is given none: the sandbox, X,
 * LinkedIn, Instagram and Facebook Pages. Spread them to add your own:
 * `platforms: [...bundledPlatforms, mine]`.
 */
export const bundledPlatforms: readonly PlatformDefinition[] = [
  sandboxPlatform,
  xPlatform,
  linkedinPlatform,
  instagramPlatform,
  facebookPlatform,
]
