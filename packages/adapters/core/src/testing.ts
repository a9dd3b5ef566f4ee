/**
 * Testing kit for adapter authors: the conformance suite every adapter runs against its emulator
 * (needs `vitest`), and the msw building blocks for writing platform emulators (needs `msw`).
 * Both are optional peer dependencies, needed only by this entry.
 *
 * @module
 */

export * from './emulator.ts'
export {
  type ConformanceEmulator,
  type ConformanceFault,
  type ConformanceOperation,
  type ConformanceTarget,
  createFittingMedia,
  describeAdapterConformance,
  type InjectedFault,
} from './testing/conformance.ts'
