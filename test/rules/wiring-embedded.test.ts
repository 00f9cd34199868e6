// Running consumers and providers obey traffic rules written into the embedded registry (a temp
// folder), through real servers over tcp:// and a client calling in a loop.
import { consumerScenarios } from './wiring-consumer-scenarios.js';
import { embeddedBackend } from './wiring-kit.js';
import { providerScenarios } from './wiring-provider-scenarios.js';
import { routingScenarios } from './wiring-routing-scenarios.js';

consumerScenarios(embeddedBackend);
routingScenarios(embeddedBackend);
providerScenarios(embeddedBackend);
