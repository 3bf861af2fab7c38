// `kiln`: the public entry point. Model files import from here.
export * from './dsl/index.ts';
export { KilnError, type Loc } from '../ir/errors.ts';
