import { describe, expect, it } from 'vitest';
import { rememberRecent } from '../../local/recent';

describe('rememberRecent', () => {
  it('keeps the most recent entries in order and drops the oldest past the limit', () => {
    const list: number[] = [];
    for (let i = 0; i < 7; i++) rememberRecent(list, i, 3);
    expect(list).toEqual([4, 5, 6]);
  });
});
