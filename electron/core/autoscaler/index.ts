// The autoscaler's public surface in one import: policies, the Autoscaler, victim choice and
// the elasticity metrics. Re-exports only; no logic lives here.
export { AutoscalerError, type AutoscalerErrorCode } from './errors';
export { summarize, type MemberState, type MemberView, type ScalingInputs, type ScalingSummary } from './inputs';
export {
  defaultPolicyConfig,
  defaultTargets,
  parsePolicyConfig,
  policyConfigSchema,
  policyLabel,
  targetMetrics,
  targetPolicySchema,
  thresholdPolicySchema,
  type PolicyConfig,
  type PolicyConfigInput,
  type PolicyKind,
  type PolicyLabel,
  type TargetMetric,
  type TargetPolicyConfig,
  type ThresholdPolicyConfig,
} from './policies';
export {
  Autoscaler,
  chooseVictims,
  type AutoscalerOptions,
  type Decision,
  type DecisionKind,
  type Evaluation,
  type ScalingSource,
} from './autoscaler';
export {
  demandFromLoad,
  elasticityMetrics,
  sampleStepFunction,
  type ElasticityMetrics,
  type ElasticitySeries,
  type StepPoint,
} from './elasticity';
