// Kernel IR folding moved to ir/specialize.ts; matmul.ts still imports mapExprIndex from here.
export { mapExprIndex } from '../../ir/specialize.ts';
