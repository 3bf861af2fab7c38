// Every implementation the bench runs, kiln first.
import { jaxPeer } from './jax.ts';
import { kiln } from './kiln.ts';
import { ortNode, ortWeb } from './ort.ts';
import { tfjsCpu, tfjsWasm } from './tfjs.ts';
import { torchPeer } from './torch.ts';
import type { Impl } from './types.ts';

export const IMPLS: readonly Impl[] = [kiln, tfjsWasm, tfjsCpu, ortWeb, ortNode, jaxPeer, torchPeer];
