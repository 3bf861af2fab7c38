// Type-checks a model file before it runs (TypeScript's compiler through ts-morph), so a misspelled
// layer or optimizer option is an error at its line instead of being ignored. 'kiln' (and
// 'kiln/runtime', 'kiln/ir') resolve to this copy of kiln, as bin/model-hooks.mjs does at run time.
import { fileURLToPath } from 'node:url';
import { Project, ts } from 'ts-morph';
import type { Loc } from '../../ir/errors.ts';
import { displayPath } from '../dsl/loc.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface TypeDiagnostic {
  readonly loc: Loc | undefined;
  /** 'TS2561' */
  readonly code: string;
  readonly message: string;
}

/** The errors TypeScript reports in `file` (syntax and types); warnings and other files' errors are left out. */
export function typecheckFile(file: string): TypeDiagnostic[] {
  const project = new Project({
    skipAddingFilesFromTsConfig: true,
    compilerOptions: {
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
      allowImportingTsExtensions: true,
      resolveJsonModule: true,
      lib: ['lib.es2023.d.ts', 'lib.dom.d.ts'],
      types: ['node'],
      typeRoots: [ROOT + 'node_modules/@types'],
      paths: {
        kiln: [ROOT + 'compiler/index.ts'],
        'kiln/runtime': [ROOT + 'runtime/index.ts'],
        'kiln/ir': [ROOT + 'ir/index.ts'],
      },
    },
  });
  const source = project.addSourceFileAtPath(file);
  project.resolveSourceFileDependencies();
  const program = project.getProgram().compilerObject;
  const syntax = program.getSyntacticDiagnostics(source.compilerNode);
  const all = syntax.length > 0 ? syntax : program.getSemanticDiagnostics(source.compilerNode);
  return all
    .filter((d) => d.category === ts.DiagnosticCategory.Error)
    .map((d) => {
      const pos = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : undefined;
      const loc =
        pos && d.file ? { file: displayPath(d.file.fileName), line: pos.line + 1, col: pos.character + 1 } : undefined;
      return { loc, code: `TS${d.code}`, message: ts.flattenDiagnosticMessageText(d.messageText, '\n  ') };
    });
}
