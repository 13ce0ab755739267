/** The playbook compiler: authoring format, compilation, diagnostics and versions. */
export { compilePlaybook, type CompileResult } from "./compile";
export { formatDiagnostic, type Diagnostic } from "./diagnostics";
export type { SourceText } from "./load";
export { playbookJsonSchema } from "./schema";
export { canonicalJson, rulesetVersion } from "../core/ruleset-version";
