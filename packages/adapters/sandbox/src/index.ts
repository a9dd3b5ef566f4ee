/**
 * The sandbox platform and its adapter: a local social network so anyone can run Post Scheduler
 * end to end with no credentials.
 *
 * @module
 */
export { type SandboxConfig, sandbox } from './adapter/sandbox.ts'
export {
  type SandboxPostOptions,
  sandboxCapabilities,
  sandboxOptionsSchema,
} from './capabilities.ts'
export {
  createSandboxFaultQueue,
  faultsFromText,
  type SandboxFault,
  type SandboxFaultContext,
  type SandboxFaultSource,
  type SandboxOperation,
} from './platform/faults.ts'
export {
  createSandboxPlatform,
  type SandboxClient,
  type SandboxPlatform,
  type SandboxPlatformOptions,
} from './platform/platform.ts'
export {
  processingFromText,
  type SandboxProcessing,
  type SandboxProcessingContext,
  type SandboxProcessingSource,
} from './platform/processing.ts'
export {
  createMemorySandboxStore,
  groupDuplicatePosts,
  type SandboxMedia,
  type SandboxPost,
  type SandboxPostQuery,
  type SandboxStore,
} from './platform/store.ts'
