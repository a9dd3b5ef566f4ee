import { describeAdapterConformance } from '@post-scheduler/adapter-core/testing'
import { createTestAdapter, createTestEmulator } from './test/harness.ts'

// PKCE on, so the suite's verifier test applies; every request is checked against Meta's specs.
// Text and photo posts finish at once, so this run's emulator does not defer completion.
describeAdapterConformance({
  createEmulator: () => {
    const { deferCompletion: _synchronous, ...emulator } = createTestEmulator()
    return emulator
  },
  createAdapter: () => createTestAdapter(),
})
