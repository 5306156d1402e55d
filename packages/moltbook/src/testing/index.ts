export { startFakeMoltbook } from './fakeMoltbook.ts';
export type { FakeFault, FakeMoltbook, FakeMoltbookOptions, FakeRequest, FakeWireMode } from './fakeMoltbook.ts';
export { DEFAULT_FAKE_LIMITS, NO_FAKE_LIMITS } from './fakeRateLimits.ts';
export type { FakeLimits, FakeReply } from './fakeRateLimits.ts';
export { tokenOverlap } from './fakeStore.ts';
export type { FakeAgent, FakeCommentView, FakePost, FakeSearchSeed } from './fakeStore.ts';
export { generateChallenge, generateChallengeCorpus, numberToWords, REFERENCE_CHALLENGES, seededRandom } from './challengeGenerator.ts';
export type { GeneratedChallenge } from './challengeGenerator.ts';
export type { FakeChallenge, FakeVerificationOptions } from './fakeVerification.ts';
