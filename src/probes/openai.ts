import { CANARY_MAX_OUTPUT_TOKENS } from '../config/schema.js';
import { IMAGE_CANARY_PROMPT, TEXT_CANARY_PROMPT } from '../config/defaults.js';
import type { Usage } from '../config/pricing.js';
import type { Target } from '../config/target.js';
import { asArray, field, numberOr, stringOr } from '../domain/json.js';
import { parseDataUrl, sniffBase64Image } from './image.js';
import { verdict, type Verdict } from './outcome.js';
import type { CanaryRequest } from './request.js';

/** Chat completions at an OpenAI-compatible relay in front of a Gemini image model. */
export function openAiRequest(target: Target): CanaryRequest {
  const image = target.probe.kind === 'image';
  const prompt = target.probe.prompt ?? (image ? IMAGE_CANARY_PROMPT : TEXT_CANARY_PROMPT);
  const body: Record<string, unknown> = { model: target.model, messages: [{ role: 'user', content: prompt }] };
  if (image) body.modalities = ['image', 'text'];
  else body.max_tokens = target.probe.maxOutputTokens ?? CANARY_MAX_OUTPUT_TOKENS;
  return {
    url: `${target.baseUrl}/chat/completions`,
    headers: target.apiKey ? { authorization: `Bearer ${target.apiKey}` } : {},
    body,
  };
}

const MARKDOWN_IMAGE = /!\[[^\]]*\]\(\s*([^)\s]+)\s*\)/g;

type Found = { images: number; badImages: number; text: boolean };

/** Relays put images in different places: markdown in content, `images[]`, or content parts. */
export function evaluateOpenAi(json: unknown, kind: 'text' | 'image'): { verdict: Verdict; usage: Usage } {
  const choice = asArray(field(json, 'choices'))[0];
  const message = field(choice, 'message');
  const found: Found = { images: 0, badImages: 0, text: false };
  const content = field(message, 'content');
  if (typeof content === 'string') inspectText(content, found);
  for (const part of asArray(content)) {
    const type = stringOr(field(part, 'type'));
    if (type === 'text') inspectText(stringOr(field(part, 'text')) ?? '', found);
    else inspectImageUrl(field(part, 'image_url'), found);
  }
  for (const image of asArray(field(message, 'images'))) inspectImageUrl(field(image, 'image_url') ?? image, found);
  const usageJson = field(json, 'usage');
  const usage: Usage = {
    inputTokens: numberOr(field(usageJson, 'prompt_tokens')),
    outputTokens: numberOr(field(usageJson, 'completion_tokens')),
    images: found.images,
  };
  const finish = stringOr(field(choice, 'finish_reason'));
  const detail = finish ? `finish_reason: ${finish}` : null;
  if (!choice) return { verdict: verdict('bad_output', { message: 'no choices in reply' }), usage };
  if (kind === 'image') {
    if (found.images > 0) return { verdict: verdict('ok', { detail }), usage };
    const text = found.badImages > 0 ? 'image data is not a PNG, JPEG or WebP' : 'no image in reply';
    return { verdict: verdict('bad_output', { message: text, detail }), usage };
  }
  if (found.text || found.images > 0) return { verdict: verdict('ok', { detail }), usage };
  if (finish === 'length')
    return { verdict: verdict('ok', { detail: "finish_reason: length (the canary's token cap)" }), usage };
  return { verdict: verdict('bad_output', { message: 'no text in reply', detail }), usage };
}

function inspectText(text: string, found: Found): void {
  let rest = text;
  for (const match of text.matchAll(MARKDOWN_IMAGE)) {
    countImage(match[1]!, found);
    rest = rest.replace(match[0], '');
  }
  if (rest.trim() !== '') found.text = true;
}

function inspectImageUrl(value: unknown, found: Found): void {
  const url = typeof value === 'string' ? value : stringOr(field(value, 'url'));
  if (url) countImage(url, found);
}

function countImage(url: string, found: Found): void {
  if (/^https?:\/\//i.test(url)) {
    found.images++;
    return;
  }
  const data = parseDataUrl(url);
  if (data && sniffBase64Image(data.base64)) found.images++;
  else found.badImages++;
}
