/**
 * The sandbox emulator (msw), for offline tests of code that talks to the sandbox. Needs `msw`.
 *
 * @module
 */
export { createSandboxEmulator, type SandboxEmulatorOptions } from './testing/emulator.ts'
