import { defineCapabilities } from '@post-scheduler/adapter-core/capabilities'
import { describeAdapterConformance } from '@post-scheduler/adapter-core/testing'
import { facebookCapabilities } from './capabilities.ts'
import { createTestAdapter, createTestEmulator } from './test/harness.ts'

// The asynchronous flow: the suite publishes its basic post and, with `deferCompletion`, expects
// `processing`. A Facebook text post is never processing, so this run narrows the capabilities
// the suite reads to one required video: its basic post is then a Page video, and every test
// (errors, processing, look-up of a post still processing) runs through the video path. The
// adapter itself is unchanged (it validates with its own capabilities).
const videoOnly = defineCapabilities({
  ...facebookCapabilities,
  media: {
    ...facebookCapabilities.media,
    required: true,
    kinds: { video: facebookCapabilities.media.kinds.video },
    layouts: [{ kinds: ['video'], min: 1, max: 1 }],
  },
  firstComment: undefined,
})
describeAdapterConformance({
  createEmulator: () => createTestEmulator(),
  createAdapter: () => ({ ...createTestAdapter(), capabilities: videoOnly }),
})
