//! The smallest typst world: one in-memory source, the shipped fonts, no files, no packages,
//! no clock (a template prints the dates it is given).

use std::sync::LazyLock;

use typst::diag::{FileError, FileResult};
use typst::foundations::{Bytes, Datetime, Duration};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World, WorldExt};
use typst_layout::PagedDocument;

/// The fonts every document is set in (DejaVu Sans, regular and bold: Latin and Cyrillic).
static FONTS: LazyLock<(LazyHash<FontBook>, Vec<Font>)> = LazyLock::new(|| {
    let fonts: Vec<Font> = [
        &include_bytes!("../fonts/DejaVuSans.ttf")[..],
        &include_bytes!("../fonts/DejaVuSans-Bold.ttf")[..],
    ]
    .into_iter()
    .flat_map(|data| Font::iter(Bytes::new(data)))
    .collect();
    (LazyHash::new(FontBook::from_fonts(&fonts)), fonts)
});

static LIBRARY: LazyLock<LazyHash<Library>> = LazyLock::new(|| LazyHash::new(Library::default()));

struct Memory {
    main: Source,
}

impl World for Memory {
    fn library(&self) -> &LazyHash<Library> {
        &LIBRARY
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &FONTS.0
    }

    fn main(&self) -> FileId {
        self.main.id()
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == self.main.id() { Ok(self.main.clone()) } else { Err(FileError::AccessDenied) }
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        if id == self.main.id() {
            Ok(Bytes::from_string(self.main.clone()))
        } else {
            Err(FileError::AccessDenied)
        }
    }

    fn font(&self, index: usize) -> Option<Font> {
        FONTS.1.get(index).cloned()
    }

    fn today(&self, _offset: Option<Duration>) -> Option<Datetime> {
        None
    }
}

/// Compiles `source` to PDF; on failure, the first errors with their lines.
pub(crate) fn pdf(source: &str) -> Result<Vec<u8>, String> {
    let path = VirtualPath::new("main.typ").map_err(|e| format!("{e:?}"))?;
    let id = FileId::new(RootedPath::new(VirtualRoot::Project, path));
    let world = Memory { main: Source::new(id, source.to_owned()) };
    let explain = |errors: &[typst::diag::SourceDiagnostic]| {
        errors
            .iter()
            .take(3)
            .map(|e| {
                let line = world.range(e.span).map(|r| {
                    world.main.text()[..r.start.min(world.main.text().len())].matches('\n').count()
                        + 1
                });
                match line {
                    Some(line) => format!("line {line}: {}", e.message),
                    None => e.message.to_string(),
                }
            })
            .collect::<Vec<_>>()
            .join("; ")
    };
    let document: PagedDocument = typst::compile(&world).output.map_err(|e| explain(&e))?;
    typst_pdf::pdf(&document, &typst_pdf::PdfOptions::default()).map_err(|e| explain(&e))
}
