/**
 * Testing kit for adapter authors: the conformance suite every adapter runs against its emulator
 * (needs `vitest`), and the msw building blocks for writing platform emulators (needs `msw`),
 * including the spec checks that validate an emulator's requests against Meta Graph API node
 * specs and Google discovery documents. Both peers are optional, needed only by this entry.
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
