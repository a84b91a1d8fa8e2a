//! linux-dmabuf: client buffers in GPU memory. The global exists only where the backend's
//! renderer can import them (DRM, and GLES headless); the backend checks each buffer.

use smithay::backend::allocator::dmabuf::Dmabuf;
use smithay::backend::allocator::Buffer;
use smithay::delegate_dmabuf;
use smithay::wayland::dmabuf::{DmabufGlobal, DmabufHandler, DmabufState, ImportNotifier};

use crate::state::State;

impl DmabufHandler for State {
    fn dmabuf_state(&mut self) -> &mut DmabufState {
        &mut self.comp.globals.dmabuf
    }

    fn dmabuf_imported(
        &mut self,
        _global: &DmabufGlobal,
        dmabuf: Dmabuf,
        notifier: ImportNotifier,
    ) {
        if self.backend.import_dmabuf(&dmabuf) {
            let _ = notifier.successful::<State>();
        } else {
            tracing::debug!(
                format = ?dmabuf.format(),
                size = ?dmabuf.size(),
                "a client's dmabuf cannot be imported"
            );
            notifier.failed();
        }
    }
}
delegate_dmabuf!(State);
