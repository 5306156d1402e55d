import { afterEach, expect } from 'vitest';
import { FakeClock } from '@opsloop/core';
import { createMoltbookClient, type MoltbookClient, type MoltbookClientOptions } from '../src/index.ts';
import { NO_FAKE_LIMITS, startFakeMoltbook, type FakeMoltbook, type FakeMoltbookOptions } from '../src/testing/index.ts';

export const API_KEY = 'moltbook_sk_test_Zq81vX3kP0aL9sDd7';
export const AGENT = 'opsbot';

export interface Harness {
  fake: FakeMoltbook;
  clock: FakeClock;
  client: MoltbookClient;
  /** Every delay the client asked its injected sleep for. */
  sleeps: number[];
  clientWith(options?: Partial<MoltbookClientOptions>): MoltbookClient;
}

/**
 * Registers an afterEach that closes every fake started in the test and fails the test if
 * one could not be closed. Limits are off unless the test turns them on.
 */
export function useFakeMoltbook(): (options?: Partial<FakeMoltbookOptions>) => Promise<Harness> {
  const open = new Set<FakeMoltbook>();
  afterEach(async () => {
    const fakes = [...open];
    open.clear();
    const results = await Promise.allSettled(fakes.map((f) => f.close()));
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
  });
  return async (options = {}) => {
    const clock = new FakeClock('2026-03-01T12:00:00Z');
    const fake = await startFakeMoltbook({ apiKey: API_KEY, agentName: AGENT, clock, limits: NO_FAKE_LIMITS, ...options });
    open.add(fake);
    const sleeps: number[] = [];
    const clientWith = (overrides: Partial<MoltbookClientOptions> = {}) =>
      createMoltbookClient({
        apiKey: API_KEY,
        baseUrl: fake.baseUrl,
        sleep: async (ms) => {
          sleeps.push(ms);
        },
        random: () => 0.5,
        clock,
        ...overrides,
      });
    return { fake, clock, client: clientWith(), sleeps, clientWith };
  };
}

/** The rejection of `promise`, failing the test if it resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(Error);
    return error as Error;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

export const requestsTo = (fake: FakeMoltbook, method: string, path: string) =>
  fake.requests.filter((r) => r.method === method && r.path === path);
