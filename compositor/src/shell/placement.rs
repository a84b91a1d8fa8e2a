//! Where windows go, as arithmetic on rectangles: a free place for a new window, a dialog over
//! its parent, the area a maximized or fullscreen window fills, and the corner a resize keeps.
//!
//! A window's frame is the rectangle it covers with the compositor's decorations; its content is
//! what its client draws. Placement keeps frames apart and on the output, and returns where the
//! content goes.

use smithay::reexports::wayland_protocols::xdg::shell::server::xdg_toplevel::ResizeEdge;
use smithay::utils::{Logical, Point, Rectangle, Size};

use crate::decorations::FrameSizes;

/// How far apart the candidate places of a new window are.
const STEP: i32 = 16;
/// How far each window of a cascade is from the one before.
const CASCADE: i32 = 32;

/// Where the content of a window whose frame is `frame` (around content at the origin) goes so
/// that the frame overlaps none of `taken`: the first such place scanning the output `area` row
/// by row; where there is none, cascading from the output's corner, one step per window already
/// there, wrapping before the frame would leave the output.
pub fn free_place(
    area: Rectangle<i32, Logical>,
    frame: Rectangle<i32, Logical>,
    taken: &[Rectangle<i32, Logical>],
) -> Point<i32, Logical> {
    // Offset from the frame's corner to the content's corner.
    let inset = Point::from((-frame.loc.x, -frame.loc.y));
    let max_x = area.size.w - frame.size.w;
    let max_y = area.size.h - frame.size.h;
    if max_x >= 0 && max_y >= 0 {
        let mut y = 0;
        while y <= max_y {
            let mut x = 0;
            while x <= max_x {
                let candidate = Rectangle::new((area.loc.x + x, area.loc.y + y).into(), frame.size);
                if taken.iter().all(|t| !t.overlaps(candidate)) {
                    return candidate.loc + inset;
                }
                x += STEP;
            }
            y += STEP;
        }
    }
    let n = taken.len() as i32;
    let span_x = (max_x / CASCADE).max(1);
    let span_y = (max_y / CASCADE).max(1);
    let corner = Point::from((
        area.loc.x + (n % span_x) * CASCADE,
        area.loc.y + (n % span_y) * CASCADE,
    ));
    corner + inset
}

/// Where the content of a dialog of `size` (its frame `frame` around content at the origin)
/// goes: centred over its parent's content `parent`, its frame kept on the output `area`.
pub fn centred_over(
    parent: Rectangle<i32, Logical>,
    size: Size<i32, Logical>,
    frame: Rectangle<i32, Logical>,
    area: Rectangle<i32, Logical>,
) -> Point<i32, Logical> {
    let inset = Point::from((-frame.loc.x, -frame.loc.y));
    let centred =
        parent.loc + Point::from(((parent.size.w - size.w) / 2, (parent.size.h - size.h) / 2));
    let min = area.loc + inset;
    let max = area.loc + Point::from((area.size.w, area.size.h))
        - Point::from((frame.size.w, frame.size.h))
        + inset;
    Point::from((
        centred.x.min(max.x).max(min.x),
        centred.y.min(max.y).max(min.y),
    ))
}

/// The content area of a window maximized on the output `area`: its frame fills the output.
pub fn maximized(area: Rectangle<i32, Logical>, frame: FrameSizes) -> Rectangle<i32, Logical> {
    let (b, t) = (frame.border, frame.titlebar);
    Rectangle::new(
        (area.loc.x + b, area.loc.y + t + b).into(),
        (area.size.w - 2 * b, area.size.h - t - 2 * b).into(),
    )
}

/// The content area of a window fullscreen on the output `area`, below a strip of `strip`
/// pixels that shows its container.
pub fn fullscreen(area: Rectangle<i32, Logical>, strip: i32) -> Rectangle<i32, Logical> {
    Rectangle::new(
        (area.loc.x, area.loc.y + strip).into(),
        (area.size.w, area.size.h - strip).into(),
    )
}

/// Where a window resized from `edges` goes once its client drew it at `size`: the edges
/// opposite the dragged ones stay where they were in `initial`.
pub fn resize_anchor(
    edges: ResizeEdge,
    initial: Rectangle<i32, Logical>,
    mut loc: Point<i32, Logical>,
    size: Size<i32, Logical>,
) -> Point<i32, Logical> {
    if has_edge(edges, ResizeEdge::Left) {
        loc.x = initial.loc.x + initial.size.w - size.w;
    }
    if has_edge(edges, ResizeEdge::Top) {
        loc.y = initial.loc.y + initial.size.h - size.h;
    }
    loc
}

/// The size a window of `initial` size asks for when its `edges` were dragged by `delta`,
/// within its client's minimum and maximum (0: none), and at least 1x1.
pub fn resized(
    edges: ResizeEdge,
    initial: Size<i32, Logical>,
    delta: Point<i32, Logical>,
    min: Size<i32, Logical>,
    max: Size<i32, Logical>,
) -> Size<i32, Logical> {
    let mut w = initial.w;
    let mut h = initial.h;
    if has_edge(edges, ResizeEdge::Left) {
        w -= delta.x;
    }
    if has_edge(edges, ResizeEdge::Right) {
        w += delta.x;
    }
    if has_edge(edges, ResizeEdge::Top) {
        h -= delta.y;
    }
    if has_edge(edges, ResizeEdge::Bottom) {
        h += delta.y;
    }
    let clamp = |v: i32, lo: i32, hi: i32| {
        let v = v.max(lo.max(1));
        if hi > 0 {
            v.min(hi)
        } else {
            v
        }
    };
    Size::from((clamp(w, min.w, max.w), clamp(h, min.h, max.h)))
}

/// Whether `edges` holds `edge`.
pub fn has_edge(edges: ResizeEdge, edge: ResizeEdge) -> bool {
    (edges as u32) & (edge as u32) != 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rect(x: i32, y: i32, w: i32, h: i32) -> Rectangle<i32, Logical> {
        Rectangle::new((x, y).into(), (w, h).into())
    }

    /// A frame of border 2 and title bar 24 around content of `w`x`h` at the origin.
    fn framed(w: i32, h: i32) -> Rectangle<i32, Logical> {
        FrameSizes::new(2, 24).around(rect(0, 0, w, h))
    }

    #[test]
    fn a_first_window_opens_with_its_frame_in_the_outputs_corner() {
        let loc = free_place(rect(1920, 0, 1280, 720), framed(400, 300), &[]);
        assert_eq!(loc, Point::from((1920 + 2, 26)));
    }

    #[test]
    fn a_new_window_opens_beside_the_windows_there() {
        let first = framed(400, 300);
        let taken = [Rectangle::new((0, 0).into(), first.size)];
        let loc = free_place(rect(0, 0, 1280, 720), framed(400, 300), &taken);
        let frame = Rectangle::new(loc - Point::from((2, 26)), first.size);
        assert!(!frame.overlaps(taken[0]), "{frame:?}");
        assert_eq!(loc.y, 26, "on the first row");
    }

    #[test]
    fn with_no_free_place_windows_cascade_and_stay_on_the_output() {
        let area = rect(0, 0, 800, 600);
        let mut taken = Vec::new();
        for _ in 0..40 {
            let frame = framed(700, 500);
            let loc = free_place(area, frame, &taken);
            let placed = Rectangle::new(loc - Point::from((2, 26)), frame.size);
            assert!(area.contains_rect(placed), "{placed:?} leaves {area:?}");
            taken.push(placed);
        }
    }

    #[test]
    fn a_window_larger_than_its_output_opens_at_the_corner() {
        let loc = free_place(rect(0, 0, 640, 480), framed(1000, 1000), &[]);
        assert_eq!(loc, Point::from((2, 26)));
    }

    #[test]
    fn a_dialog_opens_centred_over_its_parent_and_on_the_output() {
        let area = rect(0, 0, 1280, 720);
        let loc = centred_over(
            rect(100, 100, 600, 400),
            (200, 100).into(),
            framed(200, 100),
            area,
        );
        assert_eq!(loc, Point::from((300, 250)));
        // A parent at the output's right edge: the dialog is pushed back on.
        let loc = centred_over(
            rect(1100, 600, 600, 400),
            (400, 300).into(),
            framed(400, 300),
            area,
        );
        assert_eq!(loc, Point::from((1280 - 400 - 2, 720 - 300 - 2)));
    }

    #[test]
    fn a_maximized_frame_fills_its_output() {
        let frame = FrameSizes::new(2, 24);
        let content = maximized(rect(1920, 0, 1280, 720), frame);
        assert_eq!(frame.around(content), rect(1920, 0, 1280, 720));
    }

    #[test]
    fn a_fullscreen_window_keeps_the_strip_above_it() {
        assert_eq!(fullscreen(rect(0, 0, 800, 600), 24), rect(0, 24, 800, 576));
        assert_eq!(fullscreen(rect(0, 0, 800, 600), 0), rect(0, 0, 800, 600));
    }

    #[test]
    fn a_resize_follows_the_dragged_edges_within_the_clients_limits() {
        let none = Size::from((0, 0));
        let size = (400, 300).into();
        assert_eq!(
            resized(ResizeEdge::Left, size, (50, 80).into(), none, none),
            (350, 300).into()
        );
        assert_eq!(
            resized(ResizeEdge::BottomRight, size, (50, 80).into(), none, none),
            (450, 380).into()
        );
        assert_eq!(
            resized(
                ResizeEdge::Right,
                size,
                (-1000, 0).into(),
                (200, 0).into(),
                none
            ),
            (200, 300).into()
        );
        assert_eq!(
            resized(
                ResizeEdge::Top,
                size,
                (0, -1000).into(),
                none,
                (0, 500).into()
            ),
            (400, 500).into()
        );
        assert_eq!(
            resized(ResizeEdge::TopLeft, size, (999, 999).into(), none, none),
            (1, 1).into()
        );
    }

    #[test]
    fn a_resize_from_the_top_left_keeps_the_bottom_right_corner() {
        let initial = rect(100, 100, 400, 300);
        let loc = resize_anchor(ResizeEdge::TopLeft, initial, initial.loc, (300, 200).into());
        assert_eq!(loc + Point::from((300, 200)), Point::from((500, 400)));
        let loc = resize_anchor(
            ResizeEdge::BottomRight,
            initial,
            initial.loc,
            (300, 200).into(),
        );
        assert_eq!(loc, initial.loc);
    }
}
