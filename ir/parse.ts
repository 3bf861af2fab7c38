// The IR text format, parsing side: a hand-written lexer and a recursive-descent parser for the
// grammar ir/print.ts writes. Nodes are built through `makeNode`, so attributes are checked and
// types inferred; an annotated type must equal the inferred one.
import { makeNode } from './builder.ts';
import { KilnError, fail, type DiagnosticCode, type Loc } from './errors.ts';
import type { AttrValue, Assign, Attrs, Graph, Init, Input, Node, Output, Param, Value } from './graph.ts';
import { NAME_RE, formatInit } from './print.ts';
import { DTYPES, formatType, sameType, tensorType, type DType, type TensorType } from './types.ts';

// ---- lexer ----

export type TokenKind = 'value' | 'global' | 'ident' | 'number' | 'string' | 'punct' | 'eof';

export interface Token {
  readonly kind: TokenKind;
  /** The source text (for value/global tokens: the name without % or @; for strings: the decoded text). */
  readonly text: string;
  readonly line: number;
  readonly col: number;
}

const NAME_CHAR = /[A-Za-z0-9_./-]/;
const IDENT_START = /[A-Za-z_]/;
const NUMBER = /^-?(?:inf|\d+(?:\.\d*)?(?:[eE][+-]?\d+)?)/; // `nan` and `inf` lex as words
const PUNCT = ['<-', '(', ')', '{', '}', '[', ']', ',', ':', '='];

function syntaxError(file: string, line: number, col: number, detail: string, code: DiagnosticCode = 'K3001'): never {
  fail(code, `${file}:${line}:${col}: ${detail}`);
}

export function lex(text: string, file = '<input>'): Token[] {
  const toks: Token[] = [];
  let i = 0,
    line = 1,
    col = 1;
  const advance = (n: number): void => {
    for (let k = 0; k < n; k++, i++) {
      if (text[i] === '\n') {
        line++;
        col = 1;
      } else col++;
    }
  };
  const readName = (start: number): number => {
    let j = start;
    while (j < text.length && NAME_CHAR.test(text[j]!)) j++;
    return j;
  };
  const readString = (start: number): { end: number; value: string } => {
    let j = start + 1;
    while (j < text.length && text[j] !== '"' && text[j] !== '\n') j += text[j] === '\\' ? 2 : 1;
    if (text[j] !== '"') syntaxError(file, line, col, "expected a closing '\"', found the end of the line");
    try {
      return { end: j + 1, value: JSON.parse(text.slice(start, j + 1)) as string };
    } catch {
      return syntaxError(file, line, col, `expected a string with valid escapes, found ${text.slice(start, j + 1)}`);
    }
  };
  while (i < text.length) {
    const c = text[i]!;
    if (c === ' ' || c === '\t' || c === '\r' || c === '\n') {
      advance(1);
      continue;
    }
    if (text.startsWith('//', i)) {
      while (i < text.length && text[i] !== '\n') advance(1);
      continue;
    }
    const at = { line, col };
    const push = (kind: TokenKind, tokText: string, len: number): void => {
      toks.push({ kind, text: tokText, ...at });
      advance(len);
    };
    if (c === '%' || c === '@') {
      const kind = c === '%' ? 'value' : 'global';
      if (text[i + 1] === '"') {
        const s = readString(i + 1);
        push(kind, s.value, s.end - i);
      } else {
        const end = readName(i + 1);
        if (end === i + 1)
          syntaxError(
            file,
            line,
            col,
            `expected a name after '${c}', found ${JSON.stringify(text[i + 1] ?? 'end of file')}`,
          );
        push(kind, text.slice(i + 1, end), end - i);
      }
      continue;
    }
    if (c === '"') {
      const s = readString(i);
      push('string', s.value, s.end - i);
      continue;
    }
    const num = /[-0-9]/.test(c) ? NUMBER.exec(text.slice(i, i + 64)) : null;
    if (num && num[0] !== '-') {
      push('number', num[0], num[0].length);
      continue;
    }
    if (IDENT_START.test(c)) {
      const end = readName(i);
      push('ident', text.slice(i, end), end - i);
      continue;
    }
    const p = PUNCT.find((q) => text.startsWith(q, i));
    if (p) {
      push('punct', p, p.length);
      continue;
    }
    syntaxError(file, line, col, `expected a token, found ${JSON.stringify(c)}`);
  }
  toks.push({ kind: 'eof', text: '', line, col });
  return toks;
}

function describe(t: Token): string {
  switch (t.kind) {
    case 'eof':
      return 'end of file';
    case 'value':
      return `'%${t.text}'`;
    case 'global':
      return `'@${t.text}'`;
    case 'string':
      return JSON.stringify(t.text);
    default:
      return `'${t.text}'`;
  }
}

/** A number token's value (`nan`, `inf` and `-inf` included). */
function numberOf(t: Token): number {
  if (t.text === 'nan') return NaN;
  if (t.text === 'inf') return Infinity;
  if (t.text === '-inf') return -Infinity;
  return Number(t.text);
}

// ---- parser ----

class Parser {
  private pos = 0;
  constructor(
    private readonly toks: readonly Token[],
    private readonly file: string,
  ) {}

  peek(): Token {
    return this.toks[Math.min(this.pos, this.toks.length - 1)]!;
  }
  next(): Token {
    const t = this.peek();
    if (t.kind !== 'eof') this.pos++;
    return t;
  }
  is(kind: TokenKind, text?: string): boolean {
    const t = this.peek();
    return t.kind === kind && (text === undefined || t.text === text);
  }
  /** Consumes `text` if it is next. */
  eat(kind: TokenKind, text: string): boolean {
    if (!this.is(kind, text)) return false;
    this.next();
    return true;
  }
  expect(kind: TokenKind, what: string, text?: string): Token {
    if (!this.is(kind, text)) this.error(what);
    return this.next();
  }
  error(what: string, t: Token = this.peek(), code: DiagnosticCode = 'K3001'): never {
    return syntaxError(this.file, t.line, t.col, `expected ${what}, found ${describe(t)}`, code);
  }
  /** An error at token t that is not about what was expected. */
  errorAt(t: Token, code: DiagnosticCode, detail: string): never {
    return syntaxError(this.file, t.line, t.col, detail, code);
  }

  /** `a, b, c` between open and close punctuation. */
  list<T>(open: string, close: string, item: () => T): T[] {
    this.expect('punct', `'${open}'`, open);
    const out: T[] = [];
    if (this.eat('punct', close)) return out;
    do out.push(item());
    while (this.eat('punct', ','));
    this.expect('punct', `',' or '${close}'`, close);
    return out;
  }

  number(): number {
    const t = this.peek();
    if (t.kind === 'number' || (t.kind === 'ident' && (t.text === 'nan' || t.text === 'inf')))
      return numberOf(this.next());
    return this.error('a number');
  }

  attrValue(): AttrValue {
    const t = this.peek();
    if (t.kind === 'punct' && t.text === '[') return this.list('[', ']', () => this.number());
    if (t.kind === 'string') return this.next().text;
    if (t.kind === 'ident') {
      if (t.text === 'true' || t.text === 'false') return this.next().text === 'true';
      if (t.text === 'nan' || t.text === 'inf') return this.number();
      return this.next().text;
    }
    if (t.kind === 'number') return this.number();
    return this.error('an attribute value (number, bool, word, string or [list])');
  }

  /** `{k=v, ...}` if present, else {}. */
  attrs(): Attrs {
    if (!this.is('punct', '{')) return {};
    const out: Record<string, AttrValue> = {};
    this.list('{', '}', () => {
      const key = this.expect('ident', 'an attribute name');
      if (key.text in out) this.errorAt(key, 'K3001', `attribute '${key.text}' is given twice`);
      this.expect('punct', "'='", '=');
      out[key.text] = this.attrValue();
    });
    return out;
  }

  type(): TensorType {
    const d = this.expect('ident', `a dtype (${DTYPES.join(', ')})`);
    if (!(DTYPES as readonly string[]).includes(d.text)) this.error(`a dtype (${DTYPES.join(', ')})`, d);
    const shape = this.list('[', ']', () => {
      const t = this.expect('number', 'a dimension');
      const v = Number(t.text);
      if (!Number.isInteger(v) || v < 0) this.error('a dimension (an integer >= 0)', t);
      return v;
    });
    return tensorType(d.text as DType, shape);
  }

  /** A declared input or param name: `%name`, which must be an identifier. */
  declName(): Token {
    const t = this.expect('value', 'a value name such as %x');
    if (!NAME_RE.test(t.text)) this.error('a name starting with a letter or _ (letters, digits, _ . / -)', t);
    return t;
  }

  loc(): Loc | undefined {
    if (!this.eat('ident', 'loc')) return undefined;
    this.expect('punct', "'('", '(');
    const file = this.expect('string', 'a quoted file name').text;
    this.expect('punct', "':'", ':');
    const line = this.posInt('a line number');
    this.expect('punct', "':'", ':');
    const col = this.posInt('a column number');
    this.expect('punct', "')'", ')');
    return { file, line, col };
  }

  posInt(what: string): number {
    const t = this.expect('number', what);
    const v = Number(t.text);
    if (!Number.isInteger(v) || v < 0) this.error(what, t);
    return v;
  }

  /** Looks a used value up; K3002 when it is not defined above. */
  use(env: ReadonlyMap<string, Value>): Value {
    const t = this.expect('value', 'a value such as %0');
    const v = env.get(t.text);
    if (!v) this.errorAt(t, 'K3002', `%${t.text} is not defined above (values must be defined before they are used)`);
    return v;
  }

  graph(shared: Map<string, Param>): Graph {
    this.expect('ident', "'graph'", 'graph');
    const name = this.expect('global', 'a graph name such as @main').text;
    const env = new Map<string, Value>();
    const define = (t: Token, v: Value): void => {
      if (env.has(t.text))
        this.errorAt(t, 'K4001', `%${t.text} is defined twice in @${name} (each value is assigned once)`);
      env.set(t.text, v);
    };
    const inputs = this.list('(', ')', (): Input => {
      const t = this.declName();
      this.expect('punct', "':'", ':');
      const v: Input = Object.freeze({ kind: 'input', name: t.text, type: this.type() });
      define(t, v);
      return v;
    });
    const params = !this.eat('ident', 'params')
      ? []
      : this.list('(', ')', (): Param => {
          const t = this.declName();
          this.expect('punct', "':'", ':');
          const type = this.type();
          this.expect('punct', "'=' and an initializer", '=');
          const init: Init = {
            name: this.expect('ident', 'an initializer name such as zeros').text,
            attrs: this.attrs(),
          };
          const p = sharedParam(shared, { kind: 'param', name: t.text, type, init });
          define(t, p);
          return p;
        });
    this.expect('punct', "'{'", '{');
    const nodes: Node[] = [];
    const assigns: Assign[] = [];
    while (!this.is('ident', 'return')) {
      const t = this.expect('value', "a node ('%0 = op(...)'), an assign ('%p <- %0') or 'return'");
      if (this.eat('punct', '<-')) {
        const p = env.get(t.text);
        if (!p || p.kind !== 'param')
          this.errorAt(t, 'K3002', `%${t.text} is not a param of @${name}; only params can be assigned`);
        assigns.push({ param: p, value: this.use(env) });
        continue;
      }
      this.expect('punct', "'=' or '<-'", '=');
      const n = this.node(env);
      define(t, n);
      nodes.push(n);
    }
    this.next();
    const outputs: Output[] = [];
    if (this.is('value')) {
      do {
        const value = this.use(env);
        this.expect('ident', "'as' and an output name", 'as');
        const o = this.peek();
        if (o.kind !== 'ident' && o.kind !== 'string') this.error('an output name');
        outputs.push({ name: this.next().text, value });
      } while (this.eat('punct', ','));
    }
    this.expect('punct', outputs.length ? "',' or '}'" : "'}'", '}');
    return { name, inputs, params, nodes, outputs, assigns };
  }

  /** `op(%a, %b) {attrs} : type loc(...)` after `%n =`. */
  node(env: ReadonlyMap<string, Value>): Node {
    const opTok = this.expect('ident', 'an op name');
    const inputs = this.list('(', ')', () => this.use(env));
    const attrs = this.attrs();
    this.expect('punct', "':' and the result type", ':');
    const typeTok = this.peek();
    const annotated = this.type();
    const loc = this.loc();
    let n: Node;
    try {
      n = makeNode(opTok.text, inputs, attrs, loc);
    } catch (e) {
      if (!(e instanceof KilnError)) throw e;
      throw new KilnError(e.code, `${this.file}:${opTok.line}:${opTok.col}: ${e.detail}`, e.loc);
    }
    if (!sameType(n.type, annotated)) {
      this.errorAt(
        typeTok,
        'K4002',
        `${opTok.text}: annotated type ${formatType(annotated)} differs from the inferred ${formatType(n.type)}; fix the annotation or the inputs`,
      );
    }
    return n;
  }
}

/** Entry points of one program share their params: an identical declaration in a later graph is the same Param. */
function sharedParam(shared: Map<string, Param>, p: Param): Param {
  const key = `${p.name}: ${formatType(p.type)} = ${formatInit(p.init)}`;
  const seen = shared.get(key);
  if (seen) return seen;
  const frozen = Object.freeze(p);
  shared.set(key, frozen);
  return frozen;
}

/** Parses a program (one or more graphs). Errors are K3001 (syntax), K3002 (undefined value),
 *  K4001 (a value defined twice), K4002 (annotated type differs), K1xxx (from the op's inference),
 *  each with `file:line:col:` at the start of its detail. */
export function parse(text: string, file = '<input>'): Graph[] {
  const p = new Parser(lex(text, file), file);
  const shared = new Map<string, Param>();
  const graphs: Graph[] = [];
  do graphs.push(p.graph(shared));
  while (!p.is('eof'));
  return graphs;
}

/** Parses a file holding exactly one graph. */
export function parseGraph(text: string, file = '<input>'): Graph {
  const gs = parse(text, file);
  if (gs.length !== 1)
    fail(
      'K3001',
      `${file}: expected one graph, found ${gs.length} (${gs.map((g) => '@' + g.name).join(', ')}); use parse() for a program`,
    );
  return gs[0]!;
}
