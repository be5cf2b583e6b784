/**
 * The local runtime (DESIGN §6): the waiting room on one machine, against real emulators, with
 * the same handlers Lambda runs. Everything infrastructural comes from the synthesized stack.
 *
 *   const runtime = await startLocalRuntime({ port: 0, timings: { heartbeatTimeoutSeconds: 3 } });
 *   ...
 *   await runtime.stop();
 *
 * One runtime per process: the handlers read their environment when first imported.
 */
import { Duration } from 'aws-cdk-lib';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoStore } from '../lambdas/adapters/dynamo-store.js';
import { SqsCheckQueue } from '../lambdas/adapters/sqs-check-queue.js';
import { CheckLoop, DEFAULT_LINE_SHARDS, Rooms, environmentOf, randomIds, systemClock, timingsWithDefaults, type Timings } from '../lambdas/domain/index.js';
import { serializePassKeySet, generateKeySet } from '../lambdas/adapters/pass-key-sources.js';
import type { RoomDefinition, WaitingRoomProps } from '../lib/waiting-room.js';
import { LOCAL_CREDENTIALS, StartupError, assertPortFree, startDynamoDbLocal, startMessaging, type DynamoDbLocal, type MessagingEmulator } from './emulators.js';
import { outputsRoute, resolvedOutputs } from './outputs.js';
import { startSubscriptions } from './subscriptions.js';
import { HttpGateway, compileRoute, type ExtraRoute } from './http-gateway.js';
import { LOCAL_REGION, type LocalResource } from './intrinsics.js';
import { LocalFunction, functionEnvironment } from './lambda-host.js';
import { localPages, type Notice } from './pages.js';
import { defaultGateRooms } from './edge/gate-config.js';
import { localEdgeKeys, type LocalEdgeKeys } from './edge/keys.js';
import { assertEdgePortFree, startLocalEdge, type LocalEdge, type LocalEdgeSettings } from './edge/local-edge.js';
import { buildWebAssets, type WebAssets } from './web-assets.js';
import { QueueAlarmWatcher, queueDepthAlarmsOf } from './queue-alarms.js';
import { provision, type Provisioned } from './provision.js';
import { StateMachineHost, schedulesOf, startStepFunctionsApi } from './state-machines.js';
import { QueuePoller } from './queue-poller.js';
import { StreamPoller } from './stream-poller.js';
import { DEFAULT_CONCURRENCY_PER_FUNCTION, DEFAULT_MAX_WAIT_MS } from './load-shedding.js';
import { corsOf, eventSourceMappingsOf, functionsOf, resourcesOfType, routesOf, stageThrottleOf, synthesizeTemplate, type CfnTemplate } from './template.js';

export interface LocalRuntimeOptions {
  /** HTTP port; 0 picks a free one. @default 3000 */
  port?: number;
  host?: string;
  timings?: Partial<Timings>;
  rooms?: RoomDefinition[];
  /** Shards of the line index of the rooms created here. @default 32 (DEFAULT_LINE_SHARDS) */
  lineShards?: number;
  /** Keep DynamoDB data in this directory between runs (default: in memory). */
  dataDir?: string;
  /** Checker timeout: the check queue's visibility timeout is six times this. @default 20 */
  checkerTimeoutSeconds?: number;
  /** Deliveries of a check message before the DLQ. @default 5 */
  checkMaxReceiveCount?: number;
  /** Retries of a failing stream batch before it is set aside. @default 5 */
  streamRetryAttempts?: number;
  /** The runtime's own lines (banner, problems). @default console.log */
  log?: (line: string) => void;
  /** Extra HTTP routes, tried after the API routes and the runtime's own pages. */
  extraRoutes?: ExtraRoute[];
  /**
   * How the API sheds load (./load-shedding.ts): invocations of one function at once, and how
   * long a request waits for one before its 429. The stage's throttling comes from the template.
   * @default 8 at once, 1,500 ms
   */
  shedding?: { concurrencyPerFunction?: number; maxWaitMs?: number };
  /**
   * Take /admin requests without a SigV4 signature, for quick experiments with curl. Off: the
   * local gateway checks signatures as API Gateway does (the CLI, the admin page and the tests sign).
   * @default false
   */
  unsignedAdmin?: boolean;
  /** Alarm notices beyond e-mail (the WaitingRoom prop): locally one webhook with a `url` (one process runs every function, so their environments must agree). */
  notifications?: WaitingRoomProps['notifications'];
  /** Serve the waiting-room and admin pages and the demo origin. @default true */
  pages?: boolean;
  /**
   * The local edge (./edge/local-edge.ts): the gate's CloudFront distribution played on its own
   * port, with the gate function in front of a demo origin on another; the API's functions then
   * set the edge pass cookie. `npm start` turns it on (EDGE_PORT).
   * @default false
   */
  edge?: LocalEdgeSettings | false;
  /** Start the template's scheduled state machines at their rate. @default true */
  schedules?: boolean;
  /** Each Wait state of a state machine lasts this many ms instead of its own seconds (tests). */
  stateMachineWaitMs?: number;
  /** Retries inside state machines wait this many ms (tests). */
  stateMachineRetryMs?: number;
  /**
   * Called once when the runtime can no longer serve (an emulator died), with what happened. The
   * gateway answers 503 with that reason from then on; `npm start` stops and exits non-zero.
   */
  onFatal?: (reason: string) => void;
}

export interface LocalRuntime {
  url: string;
  port: number;
  timings: Timings;
  template: CfnTemplate;
  resources: ReadonlyMap<string, LocalResource>;
  /** The stack's outputs that resolve locally (./outputs.ts; also GET /local/outputs). */
  outputs: Readonly<Record<string, string>>;
  functions: ReadonlyMap<string, LocalFunction>;
  clients: { dynamodb: DynamoDBClient; sqs: SQSClient; sns: SNSClient; streams: DynamoDBStreamsClient };
  stateMachines: StateMachineHost;
  /** Where the emulators listen (for the AWS CLI: aws --endpoint-url ...). */
  emulators: {
    dynamodb: string;
    messaging: string;
    /** DynamoDB Local's watchdog shell (Java is its child). */
    dynamodbWatchdogPid: number;
    /** Freezes the SQS/SNS emulator (in this process) as SIGSTOP would, until the returned thaw: for fault tests. */
    freezeMessaging(): () => void;
  };
  /** The local edge and its demo origin; undefined unless the `edge` option asked for it. */
  edge?: LocalEdge;
  /** Notifications published to the admin topic (shown instead of e-mailed), newest last. */
  notices(): Notice[];
  /** Logical id of the one resource (of `type`, if given) whose logical id starts with `prefix`. */
  logicalId(prefix: string, type?: string): string;
  /** Every message a queue holds (ready, delayed or in flight), without receiving any: for tests and the admin page. */
  queueMessages(logicalIdPrefix: string): { body: string; receiveCount: number; state: 'ready' | 'delayed' | 'inflight' }[];
  stop(): Promise<void>;
}

/** How often the queue-depth alarms look at their queues (CloudWatch: once a minute). */
const QUEUE_ALARM_EVERY_MS = 5_000;

/** AWS-only resource types the runtime does not emulate, whose names may still appear in settings or text. */
const DESCRIPTIVE_ONLY = new Set([
  'AWS::Logs::LogGroup',
  'AWS::KMS::Key',
  'AWS::CloudWatch::Dashboard',
  'AWS::CloudWatch::Alarm',
  'AWS::IAM::Role',
  'AWS::Events::Rule',
  'AWS::Lambda::Function',
]);

function localEnvironment(db: DynamoDbLocal, messaging: MessagingEmulator): Record<string, string> {
  return {
    AWS_REGION: LOCAL_REGION,
    AWS_DEFAULT_REGION: LOCAL_REGION,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_DYNAMODB: db.endpoint,
    AWS_ENDPOINT_URL_DYNAMODB_STREAMS: db.endpoint,
    AWS_ENDPOINT_URL_SNS: messaging.endpoint,
    // The host fauxqs puts in queue URLs (resolved to 127.0.0.1): with the same host as endpoint,
    // SQS clients neither warn nor route elsewhere.
    AWS_ENDPOINT_URL_SQS: messaging.sqsEndpoint,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    WR_LOG_FORMAT: 'pretty',
    WR_METRICS_SINK: 'memory',
  };
}

export async function startLocalRuntime(options: LocalRuntimeOptions = {}): Promise<LocalRuntime> {
  const log = options.log ?? ((line: string) => console.log(line));
  const requestedPort = options.port ?? 3000;
  if (requestedPort !== 0) await assertPortFree(requestedPort, 'PORT');
  const edgeSettings = options.edge || undefined;
  if (edgeSettings && edgeSettings.port !== undefined && edgeSettings.port !== 0 && edgeSettings.port === requestedPort) {
    throw new StartupError(`EDGE_PORT and PORT are both ${requestedPort}: the edge needs a port of its own`);
  }
  if (edgeSettings) await assertEdgePortFree(edgeSettings.port ?? 0);

  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.splice(0).reverse()) {
      try {
        await stop();
      } catch (error) {
        log(`while stopping: ${String(error)}`);
      }
    }
  };

  try {
    const serving: { gateway?: HttpGateway } = {}; // set once the gateway exists
    const emulatorDied = (description: string) => {
      const reason = `${description}; the local runtime cannot serve without it`;
      log(reason);
      serving.gateway?.fail(reason);
      options.onFatal?.(reason);
    };
    const [db, messaging] = await Promise.all([startDynamoDbLocal({ dataDir: options.dataDir, onUnexpectedExit: emulatorDied }), startMessaging()]);
    stops.push(db.stop, messaging.stop);
    // A log level set by whoever starts the runtime wins over the functions' own (INFO).
    const chosenLogLevel = process.env.POWERTOOLS_LOG_LEVEL;
    Object.assign(process.env, localEnvironment(db, messaging));
    // A fresh signing key for admission passes, unless one is given.
    process.env.WR_PASS_KEYS ??= serializePassKeySet(await generateKeySet());

    const timings: Timings = timingsWithDefaults(options.timings);
    const props: WaitingRoomProps = {
      adminEmail: process.env.WR_ADMIN_EMAIL ?? 'admin@example.com',
      rooms: options.rooms ?? [{ roomId: 'demo', capacity: 5 }],
      timings,
      checkerTimeout: Duration.seconds(options.checkerTimeoutSeconds ?? 20),
      ...(options.lineShards !== undefined ? { lineShards: options.lineShards } : {}),
      checkMaxReceiveCount: options.checkMaxReceiveCount ?? 5,
      streamRetryAttempts: options.streamRetryAttempts ?? 5,
      ...(options.notifications ? { notifications: options.notifications } : {}),
    };
    const template = await synthesizeTemplate(props);
    const clients = {
      dynamodb: new DynamoDBClient({}),
      sqs: new SQSClient({}),
      sns: new SNSClient({}),
      streams: new DynamoDBStreamsClient({}),
    };
    stops.push(async () => Object.values(clients).forEach((c) => c.destroy()));
    const provisioned: Provisioned = await provision(template, clients);
    const { resources } = provisioned;
    const logicalId = (prefix: string, type?: string) => {
      const found = Object.entries(template.Resources)
        .filter(([id, r]) => id.startsWith(prefix) && (type === undefined || r.Type === type))
        .map(([id]) => id);
      if (found.length !== 1) throw new Error(`expected one resource named ${prefix}*, found ${found.length}`);
      return found[0]!;
    };

    // Resources that exist only on AWS but may be named in text (a log group in a notice): placeholders.
    for (const [id, resource] of Object.entries(template.Resources)) {
      if (!resources.has(id) && DESCRIPTIVE_ONLY.has(resource.Type)) {
        resources.set(id, { ref: id, attributes: { Arn: `arn:aws:local:${LOCAL_REGION}:000000000000:${resource.Type.split('::')[1]!.toLowerCase()}/${id}` } });
      }
    }

    const definitions = functionsOf(template);
    const functions = new Map(definitions.map((d) => [d.logicalId, new LocalFunction(d)]));
    for (const f of functions.values()) resources.set(f.name, { ref: f.name, attributes: { Arn: f.arn } });
    const stateMachines = new StateMachineHost({
      template,
      resources,
      functions,
      sns: clients.sns,
      ...(options.stateMachineWaitMs !== undefined ? { waitOverrideMs: options.stateMachineWaitMs } : {}),
      ...(options.stateMachineRetryMs !== undefined ? { retryOverrideMs: options.stateMachineRetryMs } : {}),
      log,
    });
    stops.push(async () => stateMachines.stop());
    for (const [id, resource] of stateMachines.resources) resources.set(id, resource);
    const stepFunctionsApi = await startStepFunctionsApi(stateMachines);
    stops.push(stepFunctionsApi.close);
    process.env.AWS_ENDPOINT_URL_SFN = stepFunctionsApi.endpoint;

    // Secrets Manager is not emulated: the pass keys come from WR_PASS_KEYS (generated above) instead.
    const secrets = new Set(resourcesOfType(template, 'AWS::SecretsManager::Secret').map(([id]) => id));
    Object.assign(process.env, functionEnvironment(definitions, resources, secrets));
    if (chosenLogLevel) process.env.POWERTOOLS_LOG_LEVEL = chosenLogLevel;
    // Behind the local edge, the functions sign edge passes: they read the keys when loaded.
    const edgeKeys: LocalEdgeKeys | undefined = edgeSettings ? localEdgeKeys() : undefined;
    if (edgeKeys) Object.assign(process.env, edgeKeys.environment);
    await Promise.all([...functions.values()].map((f) => f.load()));

    // Topic subscribers: e-mail (a queue of notices, printed and kept) and functions (alarm webhooks).
    const subscriptions = await startSubscriptions({ template, resources, emailSubscriptions: provisioned.emailSubscriptions, clients, functions, log });
    stops.push(() => subscriptions.stop());
    const notices = subscriptions.notices;

    const onError = (message: string, error: unknown) => log(`${message}${error ? `: ${error instanceof Error ? error.message : String(error)}` : ''}`);
    const alarms = new QueueAlarmWatcher({
      alarms: queueDepthAlarmsOf(template),
      resources,
      sns: clients.sns,
      // Locally a queue's name is its logical id (see queueMessages).
      visible: (queueLogicalId) => messaging.server.inspectQueue(queueLogicalId)?.messages.ready.length ?? 0,
      everyMs: QUEUE_ALARM_EVERY_MS,
      onError,
    });
    alarms.start();
    stops.push(() => alarms.stop());
    for (const mapping of eventSourceMappingsOf(template)) {
      const fn = functions.get(mapping.functionLogicalId)!;
      const source = resources.get(mapping.sourceLogicalId)!;
      if (mapping.kind === 'dynamodb-stream') {
        const poller = new StreamPoller({
          mapping,
          fn,
          streamArn: source.attributes.StreamArn!,
          streams: clients.streams,
          sqs: clients.sqs,
          ...(mapping.onFailureLogicalId ? { onFailureQueueUrl: resources.get(mapping.onFailureLogicalId)!.ref } : {}),
          // A table from an earlier run (--data) was read then; its tokens get fresh checks below.
          startingPosition: provisioned.existingTables.includes(mapping.sourceLogicalId) ? 'LATEST' : 'TRIM_HORIZON',
          onError,
        });
        poller.start();
        stops.push(() => poller.stop());
      } else {
        const poller = new QueuePoller({ mapping, fn, queueUrl: source.ref, queueArn: source.attributes.Arn!, sqs: clients.sqs, onError });
        poller.start();
        stops.push(() => poller.stop());
      }
    }

    const documents = DynamoDBDocumentClient.from(clients.dynamodb, { marshallOptions: { removeUndefinedValues: true } });
    const tokensTable = resources.get(logicalId('WaitingRoomTablesTokens'))!.ref;
    const store = new DynamoStore(documents, { rooms: resources.get(logicalId('WaitingRoomTablesRooms'))!.ref, tokens: tokensTable });
    const checkQueue = new SqsCheckQueue(clients.sqs, resources.get(logicalId('WaitingRoomCheckLoopCheckQueue', 'AWS::SQS::Queue'))!.ref);
    const deps = { store, clock: systemClock, timings, ids: randomIds, checks: checkQueue, ...environmentOf(store, systemClock) };
    const lineShards = props.lineShards ?? DEFAULT_LINE_SHARDS;
    for (const room of props.rooms ?? []) await new Rooms(deps, lineShards).configure(room.roomId, { capacity: room.capacity, state: room.state ?? 'open' });
    if (provisioned.existingTables.includes(logicalId('WaitingRoomTablesTokens'))) {
      // The check queue lives in memory: tokens kept from an earlier run need their check loop again.
      const loop = new CheckLoop(deps, checkQueue);
      let resumed = 0;
      let start: Record<string, unknown> | undefined;
      do {
        const page = await documents.send(new ScanCommand({ TableName: tokensTable, ExclusiveStartKey: start }));
        for (const item of page.Items ?? []) {
          await loop.start({ tokenId: String(item.tokenId), roomId: String(item.roomId), checkSeq: Number(item.checkSeq ?? 0) });
          resumed += 1;
        }
        start = page.LastEvaluatedKey;
      } while (start);
      if (resumed > 0) log(`resumed the check loops of ${resumed} tokens kept in ${options.dataDir}`);
    }

    if (options.schedules !== false) {
      for (const schedule of schedulesOf(template, resources)) {
        const timer = setInterval(() => {
          try {
            stateMachines.start(schedule.targetArn, schedule.input ? (JSON.parse(schedule.input) as Record<string, string>) : {});
          } catch (error) {
            onError(`schedule ${schedule.ruleId}`, error);
          }
        }, schedule.everyMs);
        stops.push(async () => clearInterval(timer));
      }
    }

    let ownUrl = ''; // set once the gateway listens
    const extraRoutes: ExtraRoute[] = [];
    let web: WebAssets | undefined; // the build of web/, shared by the pages and the edge
    if (options.pages !== false) {
      const pages = await localPages({ notices, jwksUrl: () => `${ownUrl}/.well-known/jwks.json`, apiUrl: () => ownUrl });
      stops.push(async () => pages.close());
      extraRoutes.push(...pages.routes);
      web = pages.web;
    }
    const outputs = resolvedOutputs(template, resources);
    extraRoutes.push(outputsRoute(() => outputs));
    extraRoutes.push(...(options.extraRoutes ?? []));
    const routes = routesOf(template).map((r) => compileRoute(r, functions.get(r.functionLogicalId)!));
    const stage = stageThrottleOf(template);
    const gateway = new HttpGateway(routes, extraRoutes, onError, corsOf(template), {
      ...(stage ? { stage } : {}),
      concurrencyPerFunction: options.shedding?.concurrencyPerFunction ?? DEFAULT_CONCURRENCY_PER_FUNCTION,
      maxWaitMs: options.shedding?.maxWaitMs ?? DEFAULT_MAX_WAIT_MS,
    }, options.unsignedAdmin ?? false);
    serving.gateway = gateway;
    const port = await gateway.listen(requestedPort, options.host ?? '127.0.0.1').catch((error: NodeJS.ErrnoException) => {
      throw new StartupError(error.code === 'EADDRINUSE' ? `Port ${requestedPort} (PORT) is already in use: set PORT to a free port` : error.message);
    });
    stops.push(() => gateway.close());
    const url = `http://${options.host && options.host !== '0.0.0.0' ? options.host : '127.0.0.1'}:${port}`;
    ownUrl = `http://127.0.0.1:${port}`;

    let edge: LocalEdge | undefined;
    if (edgeSettings && edgeKeys) {
      if (!web) {
        const built = await buildWebAssets();
        stops.push(async () => built.close());
        web = built;
      }
      const started = await startLocalEdge({
        port: edgeSettings.port ?? 0,
        rooms: edgeSettings.rooms ?? defaultGateRooms((props.rooms ?? []).map((room) => room.roomId)),
        keys: edgeKeys,
        apiPort: port,
        web,
        onError,
      });
      stops.push(() => started.stop());
      edge = started;
    }

    const queueMessages = (prefix: string) => {
      const inspected = messaging.server.inspectQueue(logicalId(prefix, 'AWS::SQS::Queue'));
      if (!inspected) return [];
      const of = (m: { body: string; approximateReceiveCount?: number }, state: 'ready' | 'delayed' | 'inflight') => ({
        body: m.body,
        receiveCount: m.approximateReceiveCount ?? 0,
        state,
      });
      return [
        ...inspected.messages.ready.map((m) => of(m, 'ready')),
        ...inspected.messages.delayed.map((m) => of(m, 'delayed')),
        ...inspected.messages.inflight.map((m) => of(m.message, 'inflight')),
      ];
    };
    return {
      url,
      port,
      timings,
      template,
      resources,
      outputs,
      functions,
      clients,
      stateMachines,
      emulators: { dynamodb: db.endpoint, messaging: messaging.endpoint, dynamodbWatchdogPid: db.pid, freezeMessaging: () => messaging.freeze() },
      ...(edge ? { edge } : {}),
      notices,
      logicalId,
      queueMessages,
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

