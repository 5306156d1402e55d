import type { JsonChange } from '@opsloop/core';

export function jsonDiff(before: unknown, after: unknown, path?: string): JsonChange[];
export function stableJson(value: unknown): string;
