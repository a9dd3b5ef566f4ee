import { describeAdapterConformance } from '@post-scheduler/adapter-core/testing'
import { createTestAdapter, createTestEmulator } from './test/harness.ts'

// PKCE on, so the suite's verifier test applies; every request is checked against Meta's specs.
describeAdapterConformance({
  createEmulator: () => createTestEmulator(),
  createAdapter: () => createTestAdapter(),
})
