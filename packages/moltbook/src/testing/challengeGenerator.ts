/**
 * Garbled "lobster math" challenges with their answers, for the fake Moltbook and the
 * solver's corpus test. Seeded (same seed, same corpus). The garbling follows the public
 * reports (moltbook-verification.md): alternating case, doubled and tripled letters,
 * phonetic misspellings of units, punctuation noise inside and around words, words split
 * by spaces, filler words, numbers as words (sometimes in `<…>`, sometimes digits).
 * Number words themselves are never misspelled phonetically: that is what the LLM
 * fallback is for.
 */

/** The three challenges seen in public, with their answers: the corpus' seed. */
export const REFERENCE_CHALLENGES: readonly GeneratedChallenge[] = [
  {
    text: 'A] lO-bS tErS^ cLaW ]fOrCe| iN~ wAtEr, tHe^ lObStEr muLtIpLiEs dOmInAnCe um, tHe fIrSt cLaW iS tWeNtY tHrEe NeWtOnS aNd ThE sEcOnD cLaW iS fIvE nEwToNs',
    answer: '115.00',
  },
  { text: 'ClAw] FoR^cE Is- TwEnTy ThReE }nEuToNs ~ AnD- thE OtHeR }clAw Is- FiVe <nEuToNs, HoW/ MuCh] ToTaL^ FoRcE?', answer: '28.00' },
  { text: 'A] Lo^bSt-Er ClAw| F oRcE Is ThIrTy tW o NeW ToNs Um AnD InCrEaSeS By TwElVe', answer: '44.00' },
];

export interface GeneratedChallenge {
  text: string;
  /** Two decimals, as /verify wants it. */
  answer: string;
}

/** mulberry32: small, fast, good enough for test data. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ONES = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve', 'thirteen', 'fourteen', 'fifteen', 'sixteen', 'seventeen', 'eighteen', 'nineteen'];
const TENS = ['', '', 'twenty', 'thirty', 'forty', 'fifty', 'sixty', 'seventy', 'eighty', 'ninety'];

export function numberToWords(n: number): string {
  if (n < 20) return ONES[n]!;
  if (n < 100) return TENS[Math.floor(n / 10)]! + (n % 10 ? ` ${ONES[n % 10]}` : '');
  const rest = n % 100;
  return `${ONES[Math.floor(n / 100)]} hundred${rest ? ` ${numberToWords(rest)}` : ''}`;
}

type Op = 'add' | 'subtract' | 'multiply' | 'divide';

/** Templates: `{a}` and `{b}` are the operands; `{u}` a unit word (misspelled at times). */
const TEMPLATES: Record<Op, string[]> = {
  add: [
    'a lobster claw force is {a} {u} and increases by {b}',
    'claw force is {a} {u} and the other claw is {b} {u}, how much total force?',
    'the lobster swims at {a} meters per second and gains {b} meters per second, what is the new speed',
    'a claw pinches with {a} {u} and the other with {b} {u}, what is the combined force',
    'a lobster has {a} pebbles and finds {b} more, what is the sum of pebbles',
    'the first lobster carries {a} shells plus {b} shells from the second, how many in total',
  ],
  subtract: [
    'a lobster swims at {a} centimeters per second and slows by {b}, what is the remaining speed',
    'the lobster claw force is {a} {u} but decreases by {b} {u}',
    'a lobster has {a} pebbles and loses {b} of them, how many remain',
    'the claw exerts {a} {u} minus {b} {u} of water resistance, what force is left',
  ],
  multiply: [
    'in water the lobster multiplies dominance, the first claw is {a} {u} and the second claw is {b} {u}',
    'a lobster pushes with {a} {u} at {b} meters per second, what is the power',
    '{a} lobsters each carry {b} shells, what is the product',
    'the claw force of {a} {u} is multiplied by {b}',
  ],
  divide: [
    '{a} lobster eggs are divided evenly among {b} burrows, how many per burrow',
    'a claw force of {a} {u} is divided by {b}',
  ],
};

const UNIT_SPELLINGS = ['newtons', 'neutons', 'newtons', 'nootons', 'neewtuns', 'newtonss'];
const NOISE = ['] ', '^', '/', '~', '{', '}', '<', '>', '|', '-', '\\', '.', '*'];
const FILLERS = ['um', 'umm', 'uh', 'um,'];

function operands(op: Op, random: () => number): [number, number] {
  const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
  switch (op) {
    case 'add':
      return [int(1, 99), int(1, 99)];
    case 'subtract': {
      const a = int(5, 99);
      return [a, int(1, a - 1)];
    }
    case 'multiply':
      return [int(2, 40), int(2, 12)];
    case 'divide': {
      const b = int(2, 9);
      // Mostly whole quotients; now and then one that needs the two decimals.
      return random() < 0.8 ? [b * int(2, 12), b] : [int(10, 99), b];
    }
  }
}

function compute(op: Op, a: number, b: number): number {
  return op === 'add' ? a + b : op === 'subtract' ? a - b : op === 'multiply' ? a * b : a / b;
}

/** Garbles one word: case, repeated letters, noise inside or around it, a split. */
function garbleWord(word: string, random: () => number, isNumber: boolean): string {
  let out = '';
  let upper = random() < 0.5;
  for (const ch of word) {
    let c = /[a-z]/.test(ch) ? (upper ? ch.toUpperCase() : ch) : ch;
    if (/[a-z]/i.test(ch)) upper = random() < 0.85 ? !upper : upper;
    if (/[a-z]/i.test(ch) && random() < 0.08) c = c.repeat(random() < 0.7 ? 2 : 3);
    out += c;
  }
  if (word.length >= 4 && random() < 0.15) {
    const at = 1 + Math.floor(random() * (out.length - 2));
    out = `${out.slice(0, at)}${NOISE[Math.floor(random() * NOISE.length)]!.trim() || '^'}${out.slice(at)}`;
  }
  if (word.length >= 4 && random() < 0.12) {
    const at = 1 + Math.floor(random() * (out.length - 2));
    out = `${out.slice(0, at)} ${out.slice(at)}`;
  }
  if (random() < 0.2) out = `${NOISE[Math.floor(random() * NOISE.length)]!.trim() || ']'}${out}`;
  if (random() < 0.2) out = `${out}${NOISE[Math.floor(random() * NOISE.length)]!.trim() || '^'}`;
  if (isNumber && random() < 0.1) out = `<${out}>`;
  return out;
}

/** One garbled challenge and its answer. */
export function generateChallenge(random: () => number): GeneratedChallenge {
  const ops: Op[] = ['add', 'add', 'add', 'subtract', 'subtract', 'multiply', 'multiply', 'divide'];
  const op = ops[Math.floor(random() * ops.length)]!;
  const templates = TEMPLATES[op];
  const template = templates[Math.floor(random() * templates.length)]!;
  const [a, b] = operands(op, random);
  const answer = compute(op, a, b);
  const numberText = (n: number) => (random() < 0.15 ? String(n) : numberToWords(n));
  const filled = template
    .replace('{a}', `«${numberText(a)}»`)
    .replace('{b}', `«${numberText(b)}»`)
    .replace(/\{u\}/g, () => UNIT_SPELLINGS[Math.floor(random() * UNIT_SPELLINGS.length)]!);
  const words: string[] = [];
  let inNumber = false;
  for (const raw of filled.split(' ')) {
    if (raw.startsWith('«')) inNumber = true;
    const word = raw.replace(/[«»]/g, '');
    words.push(/^\d+$/.test(word) ? word : garbleWord(word, random, inNumber));
    if (raw.endsWith('»')) inNumber = false;
    if (!inNumber && random() < 0.06) words.push(FILLERS[Math.floor(random() * FILLERS.length)]!);
  }
  const text = (random() < 0.5 ? 'A] ' : '') + words.join(' ');
  return { text, answer: (Math.round(answer * 100) / 100).toFixed(2) };
}

/** The reference examples followed by `size - 3` generated ones. */
export function generateChallengeCorpus(size: number, seed = 10): GeneratedChallenge[] {
  const random = seededRandom(seed);
  const out = [...REFERENCE_CHALLENGES];
  while (out.length < size) out.push(generateChallenge(random));
  return out;
}
