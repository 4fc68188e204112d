// Public surface of the agents module: the agent port server, the per-guest Agent and their errors.
// Re-exports only; no logic lives here.
export { AgentServer, type AgentServerOptions, type AgentServerEvents, type AgentEjectedEvent, type AgentRejectedEvent, type AgentLoadEvent, type AgentRejectCode } from './agent-server';
export { Agent, type EjectReason } from './agent';
export { AgentRequestError, type AgentRequestErrorCode, isRetriableAgentError, agentErrorReason } from './errors';
