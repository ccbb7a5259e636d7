//! Phase 7 support, vm: operating-system calls that `std` does not offer, wrapped safely.

use std::ffi::CString;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

/// Sets the access and modification times of `path` itself, not following a final symlink
/// (`utimensat` with `AT_SYMLINK_NOFOLLOW`); `None` leaves a time unchanged.
pub fn set_symlink_times(
    path: &Path,
    atime: Option<SystemTime>,
    mtime: Option<SystemTime>,
) -> io::Result<()> {
    let c = CString::new(path.as_os_str().as_bytes())?;
    let ts = |t: Option<SystemTime>| match t {
        None => libc::timespec {
            tv_sec: 0,
            tv_nsec: libc::UTIME_OMIT,
        },
        Some(t) => {
            let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
            libc::timespec {
                tv_sec: d.as_secs() as _,
                tv_nsec: d.subsec_nanos() as _,
            }
        }
    };
    let times = [ts(atime), ts(mtime)];
    // SAFETY: `c` is NUL-terminated and `times` holds the two entries utimensat reads.
    let r = unsafe {
        libc::utimensat(
            libc::AT_FDCWD,
            c.as_ptr(),
            times.as_ptr(),
            libc::AT_SYMLINK_NOFOLLOW,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}
