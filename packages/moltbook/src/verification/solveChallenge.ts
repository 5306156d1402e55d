/**
 * The deterministic solver for Moltbook's "lobster math" challenges: short arithmetic
 * word problems garbled with alternating case, repeated letters, punctuation noise, words
 * split by spaces and filler words (see moltbook-verification.md).
 *
 * 1. lower-case; drop noise characters (they sit inside and around words); tokens are
 *    the space-separated remains, digits and `+` kept apart;
 * 2. collapse repeated letters, in the text and in the vocabulary alike ("thrrreee" and
 *    "three" both become "thre"), so doubling never matters;
 * 3. numbers: the longest run of adjacent tokens whose joined letters spell number words
 *    ("tw o" → 2, "twenty three" → 23, "one hundred and five" → 105), unless the join
 *    continues into a known word ("ten tacle"); digits as written;
 * 4. the operation from keywords on the joined letter stream (split words cannot hide
 *    them): explicit verbs first (multiplies, divides, loses, increases, …), then the
 *    generic "total / sum / combined" as addition.
 *
 * `confident` is false when the parse is doubtful (not exactly two operands, no keyword,
 * keywords of different operations, a digit group that may be doubled noise); the caller
 * then asks the LLM when one is configured.
 */

export type Operation = 'add' | 'subtract' | 'multiply' | 'divide';

export interface ChallengeSolution {
  /** The number, rounded to two decimals; null when no number could be read at all. */
  value: number | null;
  /** `value` with two decimals, as /verify wants it ("44.00"). */
  answer: string | null;
  operation: Operation | null;
  operands: number[];
  confident: boolean;
  /** Why the parse is not confident (empty when it is). */
  doubts: string[];
}

const NOISE = /[\][^/~{}<>|\-\\.*_=#@!?,;:'"`()&%$]/g;

const UNITS: Record<string, number> = {
  zero: 0,
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
  ten: 10,
  eleven: 11,
  twelve: 12,
  thirteen: 13,
  fourteen: 14,
  fifteen: 15,
  sixteen: 16,
  seventeen: 17,
  eighteen: 18,
  nineteen: 19,
};
const TENS: Record<string, number> = { twenty: 20, thirty: 30, forty: 40, fourty: 40, fifty: 50, sixty: 60, seventy: 70, eighty: 80, ninety: 90 };
const SCALES: Record<string, number> = { hundred: 100, thousand: 1000 };

/** Collapses runs of one letter: "claaaw" → "claw", "three" → "thre". */
export const collapse = (s: string): string => s.replace(/([a-z])\1+/g, '$1');

type NumberWord = { kind: 'unit' | 'tens' | 'scale' | 'and'; value: number };
const VOCAB = new Map<string, NumberWord>();
for (const [w, v] of Object.entries(UNITS)) VOCAB.set(collapse(w), { kind: 'unit', value: v });
for (const [w, v] of Object.entries(TENS)) VOCAB.set(collapse(w), { kind: 'tens', value: v });
for (const [w, v] of Object.entries(SCALES)) VOCAB.set(collapse(w), { kind: 'scale', value: v });
const LONGEST_WORD = Math.max(...[...VOCAB.keys()].map((k) => k.length));

/**
 * Words of the challenges' world that start with a number word: a number run must not
 * continue into one of these ("ten tacle" is a tentacle, not ten).
 */
const LEXICON = [
  'tentacle',
  'tentacles',
  'tenacity',
  'antenna',
  'antennae',
  'eighth',
  'weight',
  'fourth',
  'fifth',
  'sixth',
  'seventh',
  'ninth',
  'tenth',
  'twice',
  'once',
  'onward',
  'tense',
  'tension',
  'tend',
  'tends',
  'tenant',
  'none',
  'someone',
  'anyone',
  'alone',
  'stone',
  'tone',
  'bone',
  'fivefold',
  'twofold',
  'threefold',
].map(collapse);

/** Splits a collapsed letter string into number words, or null when it is not only number words. */
function segmentNumberWords(s: string): NumberWord[] | null {
  const best: (NumberWord[] | null)[] = new Array<NumberWord[] | null>(s.length + 1).fill(null);
  best[0] = [];
  for (let i = 0; i < s.length; i++) {
    const prefix = best[i];
    if (!prefix) continue;
    for (let len = 1; len <= LONGEST_WORD && i + len <= s.length; len++) {
      const piece = s.slice(i, i + len);
      const word = VOCAB.get(piece) ?? (piece === 'and' && i > 0 ? ({ kind: 'and', value: 0 } as NumberWord) : undefined);
      if (!word) continue;
      const candidate = [...prefix, word];
      const existing = best[i + len];
      if (!existing || candidate.length < existing.length) best[i + len] = candidate;
    }
  }
  const words = best[s.length];
  if (!words || words.length === 0 || words.at(-1)!.kind === 'and') return null;
  return words;
}

/** The value of number words in order ("twenty three" → 23), or null when they do not compose. */
function composeNumber(words: NumberWord[]): number | null {
  let total = 0;
  let current = 0;
  let last: NumberWord['kind'] | null = null;
  for (const w of words) {
    if (w.kind === 'and') {
      if (last !== 'scale') return null;
      continue;
    }
    if (w.kind === 'unit') {
      if (last === 'unit' || (last === 'tens' && w.value >= 10)) return null;
      current += w.value;
    } else if (w.kind === 'tens') {
      if (last === 'unit' || last === 'tens') return null;
      current += w.value;
    } else {
      if (current === 0) current = 1;
      if (w.value === 1000) {
        total += current * 1000;
        current = 0;
      } else current *= w.value;
    }
    last = w.kind;
  }
  return total + current;
}

interface Token {
  text: string;
  kind: 'word' | 'digits' | 'plus';
}

function tokenize(challenge: string): Token[] {
  const cleaned = challenge.toLowerCase().replace(NOISE, '');
  const out: Token[] = [];
  for (const raw of cleaned.split(/\s+/)) {
    for (const part of raw.match(/[a-z]+|\d+|\+/g) ?? []) {
      out.push({ text: part, kind: /^\d/.test(part) ? 'digits' : part === '+' ? 'plus' : 'word' });
    }
  }
  return out;
}

interface Operand {
  value: number;
  doubtful: boolean;
}

function readNumbers(tokens: Token[]): Operand[] {
  const found: Operand[] = [];
  for (let i = 0; i < tokens.length; ) {
    const token = tokens[i]!;
    if (token.kind === 'digits') {
      // "33" may be doubled noise for "3": usable, but not confident.
      found.push({ value: Number(token.text), doubtful: /^(\d)\1+$/.test(token.text) });
      i++;
      continue;
    }
    if (token.kind !== 'word') {
      i++;
      continue;
    }
    let matched = 0;
    let value = 0;
    let joined = '';
    for (let j = i; j < tokens.length && tokens[j]!.kind === 'word' && j - i < 8; j++) {
      joined += collapse(tokens[j]!.text);
      const words = segmentNumberWords(collapse(joined));
      const n = words ? composeNumber(words) : null;
      if (n !== null) {
        matched = j - i + 1;
        value = n;
      }
    }
    if (matched > 0) {
      // A run that flows on into a known word ("ten" + "tacle") is that word.
      let continued = collapse(tokens.slice(i, i + matched).map((t) => t.text).join(''));
      let isWord = false;
      for (let k = i + matched; k < Math.min(tokens.length, i + matched + 3) && tokens[k]!.kind === 'word'; k++) {
        continued = collapse(continued + tokens[k]!.text);
        if (LEXICON.includes(continued)) isWord = true;
      }
      const run = tokens.slice(i, i + matched).map((t) => t.text).join('');
      const previous = i > 0 && tokens[i - 1]!.kind === 'word' ? tokens[i - 1]!.text : '';
      // …or that began in the token before ("w eight" is a weight, "of ten" is often).
      if (LEXICON.includes(collapse(run)) || (previous && LEXICON.includes(collapse(previous + run)))) isWord = true;
      if (!isWord) {
        found.push({ value, doubtful: false });
        i += matched;
        continue;
      }
    }
    i++;
  }
  return found;
}

/** Keyword stems per operation, matched on the collapsed letter stream with spaces removed. */
const EXPLICIT: [Operation, RegExp][] = [
  ['multiply', /multipl|product|(?<!some)times|doubles|triples|power(?!ful)/],
  ['divide', /divid|splitevenly|splitsevenly|shared?equally|ratio|quotient/],
  ['subtract', /(?<!c)lose|(?<!c)lost|decreas|slows|reduc|minus|remain|fewer|drops|subtract|takeaway|difference/],
  ['add', /increas|(?<!a)gain|adds|added|plus|grows|accelerat/],
];
const GENERIC_ADD = /total|combined|combine|(?<!as)sum|together|altogether/;

function detectOperation(tokens: Token[]): { op: Operation | null; doubts: string[] } {
  const stream = collapse(
    tokens
      .filter((t) => t.kind === 'word')
      .map((t) => t.text)
      .join(''),
  );
  const hits = EXPLICIT.filter(([, re]) => re.test(stream)).map(([op]) => op);
  if (tokens.some((t) => t.kind === 'plus') && !hits.includes('add')) hits.push('add');
  if (hits.length === 1) return { op: hits[0]!, doubts: [] };
  if (hits.length > 1) {
    // "multiplies" with "more"/"total" around it is still a product; any other mix is doubtful.
    const primary = hits.find((h) => h === 'multiply' || h === 'divide') ?? hits[0]!;
    const others = hits.filter((h) => h !== primary);
    const onlySoftAdd = others.every((h) => h === 'add') && !/increas|gain|adds|added|plus/.test(stream);
    return { op: primary, doubts: onlySoftAdd ? [] : [`keywords of several operations: ${hits.join(', ')}`] };
  }
  if (GENERIC_ADD.test(stream)) return { op: 'add', doubts: [] };
  return { op: null, doubts: ['no operation keyword'] };
}

function apply(op: Operation, values: number[]): number {
  const [first, ...rest] = values as [number, ...number[]];
  switch (op) {
    case 'add':
      return values.reduce((a, b) => a + b, 0);
    case 'subtract':
      return rest.reduce((a, b) => a - b, first);
    case 'multiply':
      return values.reduce((a, b) => a * b, 1);
    case 'divide':
      return rest.reduce((a, b) => (b === 0 ? a : a / b), first);
  }
}

export function formatAnswer(value: number): string {
  return (Math.round(value * 100) / 100).toFixed(2);
}

export function solveChallenge(challenge: string): ChallengeSolution {
  const tokens = tokenize(challenge);
  const operands = readNumbers(tokens);
  const { op, doubts } = detectOperation(tokens);
  const allDoubts = [...doubts];
  if (operands.length !== 2) allDoubts.push(`${operands.length} numbers found (expected 2)`);
  if (operands.some((o) => o.doubtful)) allDoubts.push('a repeated digit group may be doubled noise');
  const values = operands.map((o) => o.value);
  if (values.length === 0) return { value: null, answer: null, operation: op, operands: [], confident: false, doubts: allDoubts };
  const operation = op ?? 'add';
  const value = values.length === 1 ? values[0]! : apply(operation, values);
  const rounded = Math.round(value * 100) / 100;
  return { value: rounded, answer: formatAnswer(rounded), operation, operands: values, confident: allDoubts.length === 0, doubts: allDoubts };
}
