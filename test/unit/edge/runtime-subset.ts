/**
 * The CloudFront Functions JavaScript runtime 2.0 subset, as a check on source text: parses with
 * espree (ES2022 module) and lists every construct outside what the runtime documents
 * (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/functions-javascript-runtime-20.html):
 * ES 5.1 plus const and let, arrow functions, rest parameters, template literals, `**`, and async
 * and await in the handler only ("async arguments and closures are not supported").
 *
 * Node types are allowed from a list (anything newer is refused by default), then a few allowed
 * types are narrowed: no `??` or logical assignment, no getters, setters, shorthand or computed
 * members, no optional catch binding, no async closures, no await outside an async function, no
 * BigInt, regular expressions with the g, i and m flags only and without lookbehind, named groups
 * or Unicode property escapes (the runtime documents named groups, but they buy nothing here),
 * imports only as `import x from 'cloudfront' | 'crypto'`, no directives ("use strict" is the
 * default). Globals the runtime lacks (timers, require, process, Map, Set, Proxy, Reflect...) and
 * a few methods newer than the documented lists are refused by name.
 */
import { parse } from 'espree';
import type { Node } from 'estree';

const ALLOWED = new Set([
  'Program',
  'ImportDeclaration',
  'ImportDefaultSpecifier',
  'Identifier',
  'Literal',
  'VariableDeclaration',
  'VariableDeclarator',
  'FunctionDeclaration',
  'FunctionExpression',
  'ArrowFunctionExpression',
  'RestElement',
  'BlockStatement',
  'ExpressionStatement',
  'EmptyStatement',
  'ReturnStatement',
  'IfStatement',
  'ForStatement',
  'ForInStatement',
  'WhileStatement',
  'DoWhileStatement',
  'BreakStatement',
  'ContinueStatement',
  'LabeledStatement',
  'SwitchStatement',
  'SwitchCase',
  'ThrowStatement',
  'TryStatement',
  'CatchClause',
  'ObjectExpression',
  'Property',
  'ArrayExpression',
  'MemberExpression',
  'CallExpression',
  'NewExpression',
  'UnaryExpression',
  'UpdateExpression',
  'BinaryExpression',
  'LogicalExpression',
  'AssignmentExpression',
  'ConditionalExpression',
  'SequenceExpression',
  'ThisExpression',
  'TemplateLiteral',
  'TemplateElement',
  'AwaitExpression',
]);

/** Why the commonest refused node types are refused, for readable messages. */
const NAMED: Readonly<Record<string, string>> = {
  ClassDeclaration: 'class',
  ClassExpression: 'class',
  MethodDefinition: 'class method',
  PropertyDefinition: 'class field',
  ObjectPattern: 'destructuring',
  ArrayPattern: 'destructuring',
  AssignmentPattern: 'default value (parameter or destructuring)',
  SpreadElement: 'spread',
  ChainExpression: 'optional chaining',
  ForOfStatement: 'for-of',
  YieldExpression: 'generator',
  TaggedTemplateExpression: 'tagged template',
  ImportExpression: 'dynamic import',
  MetaProperty: 'import.meta or new.target',
  ExportNamedDeclaration: 'export',
  ExportDefaultDeclaration: 'export',
  ExportAllDeclaration: 'export',
  ImportSpecifier: 'named import',
  ImportNamespaceSpecifier: 'namespace import',
  Super: 'super',
};

/** Globals the runtime does not have (or refuses). */
const MISSING_GLOBALS = new Set([
  'eval',
  'Function',
  'setTimeout',
  'setInterval',
  'setImmediate',
  'clearTimeout',
  'clearInterval',
  'queueMicrotask',
  'require',
  'process',
  'module',
  'exports',
  'fetch',
  'structuredClone',
  'Map',
  'Set',
  'WeakMap',
  'WeakSet',
  'WeakRef',
  'Proxy',
  'Reflect',
  'BigInt',
  'Intl',
  'SharedArrayBuffer',
  'Atomics',
]);

/** `Object.member` pairs, and method names on any object, newer than the documented lists. */
const MISSING_STATICS = new Set(['Array.from', 'Object.fromEntries', 'Object.hasOwn', 'String.raw']);
const MISSING_METHODS = new Set(['at', 'flat', 'flatMap', 'matchAll', 'findLast', 'findLastIndex', 'toSorted', 'toReversed', 'toSpliced']);

const MODULES = new Set(['cloudfront', 'crypto']);

type AnyNode = Node & { loc?: { start: { line: number; column: number } } };

function isNode(value: unknown): value is AnyNode {
  return typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string';
}

/** The nodes directly under `node`, with the key each hangs from. */
function children(node: AnyNode): { key: string; child: AnyNode }[] {
  const out: { key: string; child: AnyNode }[] = [];
  for (const [key, value] of Object.entries(node)) {
    if (key === 'loc' || key === 'range') continue;
    if (Array.isArray(value)) for (const item of value) if (isNode(item)) out.push({ key, child: item });
    if (isNode(value)) out.push({ key, child: value });
  }
  return out;
}

/** Every construct of `source` outside the runtime 2.0 subset, as "line:column: what", in source order. */
export function subsetViolations(source: string): string[] {
  let program: AnyNode;
  try {
    program = parse(source, { ecmaVersion: 2022, sourceType: 'module', loc: true }) as AnyNode;
  } catch (error) {
    return [`does not parse: ${(error as Error).message}`];
  }
  const found: string[] = [];
  const report = (node: AnyNode, what: string) => {
    const at = node.loc ? `${node.loc.start.line}:${node.loc.start.column + 1}` : '?';
    found.push(`${at}: ${what}`);
  };

  /** `functions`: the enclosing functions, innermost last. */
  const visit = (node: AnyNode, parent: AnyNode | undefined, key: string, functions: AnyNode[]) => {
    if (!ALLOWED.has(node.type)) {
      report(node, `${NAMED[node.type] ?? node.type} is not in the runtime 2.0 subset`);
      return;
    }
    switch (node.type) {
      case 'Literal':
        if ('bigint' in node && node.bigint !== undefined) report(node, 'BigInt literal');
        if ('regex' in node && node.regex) {
          const { pattern, flags } = node.regex;
          if (/[^gim]/.test(flags)) report(node, `regular expression flag(s) "${flags}" (only g, i, m)`);
          if (/\(\?<[=!]/.test(pattern)) report(node, 'regular expression lookbehind');
          if (/\(\?<[A-Za-z_$]|\\k</.test(pattern)) report(node, 'regular expression named group');
          if (/\\[pP]\{/.test(pattern)) report(node, 'regular expression Unicode property escape');
        }
        break;
      case 'FunctionDeclaration':
      case 'FunctionExpression':
      case 'ArrowFunctionExpression':
        if (node.generator) report(node, 'generator');
        if (node.async && !(node.type === 'FunctionDeclaration' && parent?.type === 'Program')) {
          report(node, 'async function other than a top-level function declaration (async closure)');
        }
        break;
      case 'AwaitExpression':
        if ((functions[functions.length - 1] as { async?: boolean } | undefined)?.async !== true) report(node, 'await outside an async function');
        break;
      case 'Property':
        if (node.kind !== 'init') report(node, `${node.kind}ter in an object literal`);
        if (node.method) report(node, 'shorthand method');
        if (node.shorthand) report(node, 'shorthand property');
        if (node.computed) report(node, 'computed property name');
        break;
      case 'MemberExpression': {
        if (node.optional) report(node, 'optional chaining');
        const name = !node.computed && node.property.type === 'Identifier' ? node.property.name : undefined;
        if (name !== undefined && MISSING_METHODS.has(name)) report(node, `.${name}() is not documented for the runtime`);
        if (name !== undefined && node.object.type === 'Identifier' && MISSING_STATICS.has(`${node.object.name}.${name}`)) {
          report(node, `${node.object.name}.${name} is not documented for the runtime`);
        }
        break;
      }
      case 'CallExpression':
        if (node.optional) report(node, 'optional call');
        break;
      case 'LogicalExpression':
        if (node.operator === '??') report(node, 'nullish coalescing (??)');
        break;
      case 'AssignmentExpression':
        if (['??=', '||=', '&&=', '**='].includes(node.operator)) report(node, `assignment operator ${node.operator}`);
        break;
      case 'CatchClause':
        if (!node.param) report(node, 'optional catch binding');
        break;
      case 'RestElement':
        if (!parent || !['FunctionDeclaration', 'FunctionExpression', 'ArrowFunctionExpression'].includes(parent.type)) report(node, 'rest element outside parameters');
        break;
      case 'ExpressionStatement':
        if ('directive' in node && node.directive) report(node, `directive "${node.directive}"`);
        break;
      case 'ImportDeclaration': {
        const only = node.specifiers.length === 1 && node.specifiers[0]?.type === 'ImportDefaultSpecifier';
        if (!only || typeof node.source.value !== 'string' || !MODULES.has(node.source.value)) {
          report(node, `import other than "import x from 'cloudfront' | 'crypto'"`);
        }
        break;
      }
      case 'Identifier': {
        const isKey = (parent?.type === 'MemberExpression' && key === 'property' && !parent.computed) || (parent?.type === 'Property' && key === 'key' && !parent.computed);
        if (!isKey && MISSING_GLOBALS.has(node.name)) report(node, `${node.name} is not available in the runtime`);
        break;
      }
    }
    const inner = node.type.endsWith('FunctionExpression') || node.type === 'FunctionDeclaration' ? [...functions, node] : functions;
    for (const { key: childKey, child } of children(node)) visit(child, node, childKey, inner);
  };
  visit(program, undefined, '', []);
  return found;
}
