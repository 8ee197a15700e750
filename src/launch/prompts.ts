import { ConfirmPrompt, isCancel, SelectPrompt, TextPrompt } from "@clack/core";
import { styleText } from "node:util";

/**
 * The wizard's prompts, one line per question as the spec draws them (`Name: Alice`). They are the
 * prompt engines of @clack/prompts (its @clack/core), which handle keys, editing, validation and
 * Ctrl-C; only the rendering is ours, because @clack/prompts' own renderers take two lines or more.
 */

/** Ctrl-C or Escape in any prompt. */
export class PromptCancelled extends Error {
  constructor() {
    super("cancelled");
    this.name = "PromptCancelled";
  }
}

const dim = (s: string) => styleText("dim", s);
const warn = (s: string) => styleText("yellow", s);

function settle<T>(v: T | symbol | undefined): T {
  if (isCancel(v) || v === undefined) throw new PromptCancelled();
  return v as T;
}

export interface TextQuestion {
  label: string;
  placeholder?: string;
  /** what an empty answer means; shown dimmed until something is typed */
  defaultValue?: string;
  /** returns an error message, or undefined when the value is fine */
  validate?: (value: string) => string | undefined;
}

export async function askText(q: TextQuestion): Promise<string> {
  const hint = q.defaultValue ?? q.placeholder;
  const p = new TextPrompt({
    defaultValue: q.defaultValue,
    validate: q.validate ? (v) => q.validate?.(v ?? "") : undefined,
    render() {
      const input = this.userInput;
      switch (this.state) {
        case "submit":
          return `${q.label}: ${input || (q.defaultValue ?? "")}`;
        case "cancel":
          return `${q.label}: ${styleText("strikethrough", input)}`;
        case "error":
          return `${q.label}: ${this.userInputWithCursor}  ${warn(this.error)}`;
        default:
          return `${q.label}: ${input ? this.userInputWithCursor : `█${hint ? dim(` ${hint}`) : ""}`}`;
      }
    },
  });
  return (settle<string>(await p.prompt()).trim() || q.defaultValue) ?? "";
}

export interface Choice<T> {
  value: T;
  label: string;
}

/** While open, one line per option under the question; once answered, it folds to `Label: choice`. */
export async function askSelect<T>(label: string, choices: Choice<T>[]): Promise<T> {
  const p = new SelectPrompt<Choice<T>>({
    options: choices,
    render() {
      const current = choices[this.cursor];
      if (this.state === "submit") return `${label}: ${current?.label ?? ""}`;
      if (this.state === "cancel") return `${label}: ${dim("(cancelled)")}`;
      const lines = choices.map((c, i) => (i === this.cursor ? `  › ${c.label}` : dim(`    ${c.label}`)));
      return [`${label}: ${dim("↑/↓ then Enter")}`, ...lines].join("\n");
    },
  });
  return settle<T>(await p.prompt());
}

/** `Continue? [Y/n]`: y or n answer at once, Enter takes the default (yes). */
export async function askConfirm(question: string): Promise<boolean> {
  const p = new ConfirmPrompt({
    active: "yes",
    inactive: "no",
    initialValue: true,
    render() {
      const answer = this.value ? "yes" : "no";
      if (this.state === "submit") return `${question} [Y/n] ${answer}`;
      if (this.state === "cancel") return `${question} [Y/n] ${dim("(cancelled)")}`;
      return `${question} [Y/n] ${dim(answer)}`;
    },
  });
  return settle<boolean>(await p.prompt());
}
