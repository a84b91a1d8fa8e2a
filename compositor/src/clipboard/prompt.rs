//! The prompt a container with `import = "ask"` shows before a paste from another container:
//! drawn by the compositor above every window, answered with Enter or Escape.

use std::cell::RefCell;
use std::sync::mpsc::SyncSender;
use std::time::Duration;

use porthole_ipc::Reply;
use smithay::reexports::calloop::timer::{TimeoutAction, Timer};
use tracing::info;

use smithay::backend::renderer::{ImportAll, ImportMem, Renderer, Texture};
use smithay::utils::{Logical, Point, Rectangle, Scale, Size};

use super::transfer::answer;
use super::{Ask, Refusal, Transfer};
use crate::decorations::BOX_BACKGROUND;
use crate::render::elements::OutputElement;
use crate::render::elements::{push_solids, push_text};
use crate::state::{Porthole, State};

/// How long a prompt waits for an answer.
const ASK_TIMEOUT: Duration = Duration::from_secs(60);

impl State {
    /// Shows the prompt for a transfer into a container with `import = "ask"`.
    pub(super) fn ask(&mut self, transfer: Transfer, to: String, reply: Option<SyncSender<Reply>>) {
        if let Some(previous) = self.comp.clipboard.asking.take() {
            self.refuse_ask(previous, Refusal::Superseded);
        }
        let timeout = self
            .comp
            .loop_handle
            .insert_source(Timer::from_duration(ASK_TIMEOUT), |_, _, state| {
                if let Some(ask) = state.comp.clipboard.asking.take() {
                    state.refuse_ask(ask, Refusal::Unanswered);
                    state.comp.queue_redraw_all();
                }
                TimeoutAction::Drop
            })
            .ok();
        info!(from = %transfer.from, %to, "asking the person about a clipboard transfer");
        self.comp.clipboard.asking = Some(Ask {
            transfer,
            to,
            reply,
            timeout,
            lines: RefCell::new(None),
            solids: RefCell::new(Vec::new()),
        });
        self.comp.queue_redraw_all();
    }

    /// The person answered the prompt (Enter: `yes`, Escape: no).
    pub fn answer_ask(&mut self, yes: bool) {
        let Some(mut ask) = self.comp.clipboard.asking.take() else {
            return;
        };
        if let Some(timeout) = ask.timeout.take() {
            self.comp.loop_handle.remove(timeout);
        }
        self.comp.queue_redraw_all();
        if yes {
            let to = ask.to.clone();
            self.offer(ask.transfer, &to, ask.reply);
        } else {
            self.refuse_ask(ask, Refusal::Declined);
        }
    }

    fn refuse_ask(&mut self, mut ask: Ask, reason: Refusal) {
        if let Some(timeout) = ask.timeout.take() {
            self.comp.loop_handle.remove(timeout);
        }
        let from = ask.transfer.from.clone();
        self.comp
            .transfer_event(&from, Some(&ask.to), Some(&ask.transfer), Some(&reason));
        answer(ask.reply, Err(reason));
    }
}

impl Porthole {
    /// The clipboard prompt (`import = "ask"`), centred on every output, above every window:
    /// a box with the target container's colour around the question.
    pub(crate) fn prompt_elements<R>(
        &self,
        renderer: &mut R,
        output_geo: Rectangle<i32, Logical>,
        scale: Scale<f64>,
        out: &mut Vec<OutputElement<R>>,
    ) where
        R: Renderer + ImportAll + ImportMem,
        R::TextureId: Clone + Texture + Send + 'static,
    {
        const WIDTH: i32 = 560;
        const LINE: i32 = 28;
        const PAD: i32 = 12;
        const BORDER: i32 = 4;
        let Some(ask) = &self.clipboard.asking else {
            return;
        };
        let height = PAD + LINE + PAD / 2 + LINE + PAD;
        let width = WIDTH.min(output_geo.size.w);
        let loc = output_geo.loc
            + Point::from((
                (output_geo.size.w - width) / 2,
                (output_geo.size.h - height) / 2,
            ));
        let colour = self
            .containers
            .get(ask.to.as_str())
            .map(|c| c.color)
            .unwrap_or(self.config.appearance.focused);
        let bg = BOX_BACKGROUND;

        let mut lines = ask.lines.borrow_mut();
        if lines.is_none() {
            let (question, keys) = ask.question();
            let fg = crate::decorations::text::text_color_on(bg);
            let text_width = width - 2 * PAD;
            *lines = self
                .text
                .render(&question, text_width, LINE, fg, bg)
                .zip(self.text.render(&keys, text_width, LINE, fg, bg));
        }
        if let Some((question, keys)) = lines.as_ref() {
            for (buffer, y) in [(question, PAD), (keys, PAD + LINE + PAD / 2)] {
                let at = loc + Point::from((PAD, y)) - output_geo.loc;
                push_text(renderer, buffer, at, scale, out);
            }
        }
        let rect = |x: i32, y: i32, w: i32, h: i32| {
            Rectangle::new(loc + Point::from((x, y)), Size::from((w, h)))
        };
        let pieces = vec![
            (rect(-BORDER, -BORDER, width + 2 * BORDER, BORDER), colour),
            (rect(-BORDER, height, width + 2 * BORDER, BORDER), colour),
            (rect(-BORDER, 0, BORDER, height), colour),
            (rect(width, 0, BORDER, height), colour),
            (rect(0, 0, width, height), bg),
        ];
        push_solids(
            &mut ask.solids.borrow_mut(),
            pieces,
            output_geo.loc,
            scale,
            out,
        );
    }
}
