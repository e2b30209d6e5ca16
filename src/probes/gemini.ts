import { CANARY_MAX_OUTPUT_TOKENS } from '../config/schema.js';
import { IMAGE_CANARY_PROMPT, TEXT_CANARY_PROMPT } from '../config/defaults.js';
import type { Target } from '../config/target.js';
import type { Usage } from '../config/pricing.js';
import { asArray, field, numberOr, stringOr } from '../domain/json.js';
import { sniffBase64Image } from './image.js';
import { verdict, type Verdict } from './outcome.js';
import type { CanaryRequest } from './request.js';

/** generateContent at the Gemini API (v1beta); the key travels in a header, never in the URL. */
export function geminiRequest(target: Target): CanaryRequest {
  return {
    url: `${target.baseUrl}/v1beta/models/${encodeURIComponent(target.model)}:generateContent`,
    headers: target.apiKey ? { 'x-goog-api-key': target.apiKey } : {},
    body: generateContentBody(target),
  };
}

/**
 * generateContent at Vertex AI: the same body, at the project's location (the global endpoint or
 * a region's own host); the OAuth token is added by the probe, per call.
 */
export function vertexRequest(target: Target): CanaryRequest {
  const { project, location } = target.vertex!;
  const path = `/v1/projects/${encodeURIComponent(project)}/locations/${encodeURIComponent(location)}/publishers/google/models/${encodeURIComponent(target.model)}:generateContent`;
  return { url: `${target.baseUrl}${path}`, headers: {}, body: generateContentBody(target) };
}

/** The canary's generateContent body, the same for the Gemini API and Vertex AI. */
function generateContentBody(target: Target): Record<string, unknown> {
  const image = target.probe.kind === 'image';
  const prompt = target.probe.prompt ?? (image ? IMAGE_CANARY_PROMPT : TEXT_CANARY_PROMPT);
  const body: Record<string, unknown> = { contents: [{ role: 'user', parts: [{ text: prompt }] }] };
  if (image) body.generationConfig = { responseModalities: ['TEXT', 'IMAGE'], imageConfig: { aspectRatio: '1:1' } };
  // maxOutputTokens bounds thinking and answer together, so a text canary's cost has a ceiling.
  else body.generationConfig = { maxOutputTokens: target.probe.maxOutputTokens ?? CANARY_MAX_OUTPUT_TOKENS };
  return body;
}

/** Judges a 2xx generateContent reply: an image canary needs a real image, a text canary text. */
export function evaluateGemini(json: unknown, kind: 'text' | 'image'): { verdict: Verdict; usage: Usage } {
  const metadata = field(json, 'usageMetadata') ?? field(json, 'usage_metadata');
  const candidate = asArray(field(json, 'candidates'))[0];
  const parts = asArray(field(field(candidate, 'content'), 'parts'));
  const texts = parts
    .map((part) => stringOr(field(part, 'text')))
    .filter((text): text is string => text !== null && text.trim() !== '');
  const inline = parts.map((part) => field(part, 'inlineData') ?? field(part, 'inline_data')).filter(Boolean);
  const images = inline.filter((data) => {
    const mime = stringOr(field(data, 'mimeType')) ?? stringOr(field(data, 'mime_type')) ?? '';
    const base64 = stringOr(field(data, 'data'));
    return mime.startsWith('image/') && base64 !== null && sniffBase64Image(base64) !== null;
  });
  const count = (camel: string, snake: string) => numberOr(field(metadata, camel)) ?? numberOr(field(metadata, snake));
  const usage: Usage = {
    inputTokens: count('promptTokenCount', 'prompt_token_count'),
    outputTokens: sumOrNull(
      count('candidatesTokenCount', 'candidates_token_count'),
      count('thoughtsTokenCount', 'thoughts_token_count'),
    ),
    images: images.length,
  };
  const finishReason = stringOr(field(candidate, 'finishReason')) ?? stringOr(field(candidate, 'finish_reason'));
  const blockReason = stringOr(field(field(json, 'promptFeedback'), 'blockReason'));
  if (!candidate) {
    const detail = blockReason ? `blockReason: ${blockReason}` : null;
    return {
      verdict: verdict('bad_output', {
        message: blockReason ? 'prompt blocked, no candidates' : 'no candidates in reply',
        detail,
      }),
      usage,
    };
  }
  const detail = finishReason ? `finishReason: ${finishReason}` : null;
  if (kind === 'image') {
    if (images.length > 0) return { verdict: verdict('ok', { detail }), usage };
    const message = inline.length > 0 ? 'image data is not a PNG, JPEG or WebP' : 'no image part in reply';
    return { verdict: verdict('bad_output', { message, detail }), usage };
  }
  if (texts.length > 0) return { verdict: verdict('ok', { detail }), usage };
  // The canary's own token cap ran out, perhaps while the model was still thinking: it was served.
  if (finishReason === 'MAX_TOKENS')
    return { verdict: verdict('ok', { detail: "finishReason: MAX_TOKENS (the canary's token cap)" }), usage };
  return { verdict: verdict('bad_output', { message: 'no text in reply', detail }), usage };
}

function sumOrNull(a: number | null, b: number | null): number | null {
  return a === null && b === null ? null : (a ?? 0) + (b ?? 0);
}
