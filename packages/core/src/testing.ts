/**
 * `@mllm/core/testing`: what a component's tests check it with. Finite-difference gradient checks
 * of a function or of a module's parameters, as this repository's own component tests use them.
 */

// Gradient checks: analytic gradients against central differences.
export { checkGradients, checkParameterGradients, gradientMismatches, type GradCheckResult, type GradCheckOptions } from './grad-check';
